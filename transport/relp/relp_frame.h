#pragma once

// The RELP wire format: rsyslog's Reliable Event Logging Protocol as librelp speaks it (imrelp,
// omrelp). Pure encode and decode, no I/O; the RELP output owns the socket, the window and the
// session state. Facts below are from librelp's doc/relp.md and its sources (relpframe.c,
// relpsess.c, copen.c, cclose.c, scrsp.c, scsyslog.c, offers.c, relp.h), where librelp's behaviour
// is what a real server checks, so it wins where it and the spec differ.
//
// Frame:  TXNR SP COMMAND SP DATALEN [SP DATA] LF
//   TXNR     1-9 decimal digits. A connection's commands are numbered 1, 2, 3, ... and a librelp
//            server refuses (and drops the session on) any command whose TXNR is not exactly the
//            next one. Each command is answered by an `rsp` frame with the same TXNR, in order.
//            TXNR 0 is for hints, which get no answer: the server sends `0 serverclose 0` before it
//            closes a session (after answering `close`, too).
//   COMMAND  1-32 letters: open, syslog, close, rsp, serverclose.
//   DATALEN  1-9 decimal digits, the length of DATA. When it is 0 the SP and DATA are left out
//            ("3 close 0\n"); librelp refuses "3 close 0 \n".
//   LF       the trailer, after DATA; it only catches framing errors and is not part of DATA.
//
// A session (the open as librelp 1.2.7 sends it, the answer as its copen.c builds it):
//   C: 1 open 85 relp_version=0\nrelp_software=librelp,1.2.7,http://librelp.adiscon.com
//      \ncommands=syslog\n
//   S: 1 rsp 92 200 OK\nrelp_version=0\nrelp_software=librelp,1.2.7,http://librelp.adiscon.com
//      \ncommands=syslog\n
//   C: 2 syslog 11 <13>hello 1\n          S: 2 rsp 6 200 OK\n
//   C: 3 close 0\n                        S: 3 rsp 0\n  0 serverclose 0\n  (then the server closes)
//
// rsp data: CODE [SP TEXT] [LF DATA]; CODE is 3 digits, 200 is OK and anything else an error.
// librelp sends "200 OK" for syslog, "200 OK\n<offers>" for open, "500 command disabled" for a
// syslog the session did not negotiate, "500 error <n> on connect" or "500 required command not
// supported by client" for a refused open, and no data at all (DATALEN 0) for close, so callers
// check for empty data before parse_relp_response(). librelp's own client needs the SP after the
// code and keeps at most 80 bytes of TEXT.
//
// Offers (the data of open and of its 200 rsp): lines "name=value[,value...]" joined by LF, with
// no LF after the last; a name is at most 32 bytes and a value at most 255 (offers.h), and newer
// librelp keeps at most 64 values per offer. librelp writes relp_version, relp_software
// (name,version,url) and commands, in that order, and ignores offers it does not know. It speaks
// relp_version=0 (RELP_CURR_PROTOCOL_VERSION, although the spec calls 0 experimental); the
// server answers with the lower of the two versions. A server enables the syslog command only
// when the client offers it in `commands`.
//
// Sizes: librelp's default limit on DATALEN is 128 KiB (RELP_DFLT_MAX_DATA_SIZE) and its client
// aborts a session whose server sends more; imrelp's maxDataSize defaults to rsyslog's
// maxMessageSize (8 KiB unless configured) and, since 8.35, truncates longer messages
// (oversizeMode=truncate) instead of dropping the session.
//
// TXNR wrap: the spec says 999,999,999 is followed by 1, and next_relp_txnr() does that. librelp
// instead computes 1,000,000,000 (relpEngineNextTXNR in relp.h wraps only above 999,999,999),
// which its own frame code refuses as ten digits, so no librelp session gets past TXNR
// 999,999,999. An output that must work with librelp closes and reopens the session (TXNR
// starts again at 1) before it would need to wrap.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace assas::transport {

inline constexpr uint32_t kRelpMaxTxnr = 999999999;
// The largest DATALEN that fits in 9 digits; real limits are far lower (see above).
inline constexpr size_t kRelpMaxDatalen = 999999999;
// librelp's default limit on DATALEN in either direction.
inline constexpr size_t kRelpDefaultMaxDataBytes = 128 * 1024;

// The TXNR after txnr: 1, 2, ..., kRelpMaxTxnr, then 1 again (0, the hint TXNR, is followed by 1).
uint32_t next_relp_txnr(uint32_t txnr);

// Appends one frame to out. txnr <= kRelpMaxTxnr, command 1-32 letters and data.size() <=
// kRelpMaxDatalen are the caller's invariants (checked): the commands are our own constants and
// the output bounds message sizes far below 999,999,999 bytes.
void encode_relp_frame(uint32_t txnr, std::string_view command, std::string_view data,
                       std::string& out);

struct RelpFrame {
  uint32_t txnr = 0;
  std::string_view command;
  std::string_view data;
};

// Incremental decoder of the frames a RELP server sends. Feed it whatever the socket delivered,
// then call next() until it returns std::nullopt or an error before feeding more; the buffer then
// holds at most one partial frame (a header of at most 53 bytes, max_data_bytes and the LF) plus
// one read. Every malformation is reported at its first byte, and a DATALEN above
// max_data_bytes as soon as its digits exceed the limit, before any data is buffered. Errors are
// kCorruption and final for the connection: next() keeps returning the same one.
// Not thread-safe; one decoder per connection.
class RelpFrameDecoder {
 public:
  explicit RelpFrameDecoder(size_t max_data_bytes) : max_data_bytes_(max_data_bytes) {}

  RelpFrameDecoder(const RelpFrameDecoder&) = delete;
  RelpFrameDecoder& operator=(const RelpFrameDecoder&) = delete;

  void feed(std::string_view bytes);
  // The next whole frame; std::nullopt when more bytes are needed. The views in the frame stay
  // valid until the next feed() or next().
  Result<std::optional<RelpFrame>> next();
  // True when part of a frame is buffered, so that a peer closing now closed mid-frame.
  bool mid_frame() const { return buffer_.size() > consumed_; }

 private:
  size_t max_data_bytes_;
  std::string buffer_;
  size_t consumed_ = 0;
};

struct RelpResponse {
  int code = 0;
  std::string_view text;  // "OK" in "200 OK"; may be empty
  std::string_view data;  // what follows the first LF, e.g. the server's offers
};

// Parses the data of an rsp frame. The views point into rsp_data. Accepts the code followed by
// nothing, SP or LF; librelp always sends "CODE SP TEXT".
Result<RelpResponse> parse_relp_response(std::string_view rsp_data);

struct RelpOffers {
  int relp_version = 0;
  std::string software;               // relp_software as sent: "name,version,url"
  std::vector<std::string> commands;  // e.g. {"syslog"}; empty when the peer offers none
};

// Parses offers. relp_version is required (the spec says to close a session without it) and must
// be one number; unknown offers are ignored; names over 32 bytes, values over 255 bytes and more
// than 64 values in one offer are refused as librelp would. Empty lines (a trailing LF) are
// skipped.
Result<RelpOffers> parse_relp_offers(std::string_view data);

// The data of our `open`: relp_version=0, relp_software=<software> and commands=syslog, in
// librelp's order. software is our own "name,version,url" constant: no LF, at most 255 bytes.
std::string relp_client_offers(std::string_view software);

}  // namespace assas::transport
