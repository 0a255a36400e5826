#include "transport/protocol/chain.h"

#include <openssl/evp.h>

#include "base/bytes.h"
#include "base/crc32c.h"
#include "base/log.h"

namespace assas::transport {
namespace {

constexpr std::string_view kLinkLabel = "assas-chain-link-1";
constexpr std::string_view kCheckpointLabel = "assas-chain-checkpoint-1";

void put_fields(std::string& out, std::span<const FieldView> fields) {
  for (const auto& [key, value] : fields) {
    put_bytes(out, key);
    put_bytes(out, value);
  }
}

Digest sha256(std::string_view bytes) {
  Digest out{};
  unsigned int size = 0;
  int ok = EVP_Digest(bytes.data(), bytes.size(), out.data(), &size, EVP_sha256(), nullptr);
  ASSAS_CHECK(ok == 1 && size == kDigestBytes, "SHA-256 is always available in OpenSSL 3");
  return out;
}

}  // namespace

CanonicalEventView canonical_view(const DecodedBatchHeader& header, const DecodedEvent& event) {
  return CanonicalEventView{event.time_ns,        header.host,  event.stream->collector,
                            event.stream->source, event.offset, event.stream->fields,
                            event.fields,         event.message};
}

void append_canonical_event(std::string& out, const CanonicalEventView& event) {
  put_u64(out, static_cast<uint64_t>(event.time_ns));
  put_bytes(out, event.host);
  put_bytes(out, event.collector);
  put_bytes(out, event.source);
  put_varint(out, event.offset);
  put_varint(out, event.fields_first.size() + event.fields_then.size());
  put_fields(out, event.fields_first);
  put_fields(out, event.fields_then);
  put_bytes(out, event.message);
}

struct ContentHasher::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
};

ContentHasher::ContentHasher() : impl_(new Impl) {
  ASSAS_CHECK(impl_->ctx != nullptr && EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) == 1,
              "cannot start a SHA-256 context (out of memory)");
}

ContentHasher::~ContentHasher() {
  EVP_MD_CTX_free(impl_->ctx);
  delete impl_;
}

std::string_view ContentHasher::add(const CanonicalEventView& event) {
  // Events are gathered and hashed a few dozen KiB at a time: one EVP call per event costs about
  // a third as much again as the hashing itself (bench/e2e.sh --integrity).
  if (scratch_.size() >= kChunkBytes) {
    flush();
  }
  const size_t start = scratch_.size();
  append_canonical_event(scratch_, event);
  ++events_;
  return std::string_view(scratch_).substr(start);
}

void ContentHasher::flush() {
  if (!scratch_.empty()) {
    EVP_DigestUpdate(impl_->ctx, scratch_.data(), scratch_.size());
    scratch_.clear();
  }
}

Digest ContentHasher::finish() {
  flush();
  Digest out{};
  unsigned int size = 0;
  int ok = EVP_DigestFinal_ex(impl_->ctx, out.data(), &size);
  ok = ok == 1 ? EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) : 0;
  ASSAS_CHECK(ok == 1 && size == kDigestBytes, "SHA-256 cannot fail on a started context");
  events_ = 0;
  return out;
}

Result<BatchContent> hash_batch(std::string_view raw, uint32_t max_events,
                                std::vector<uint32_t>* fingerprints) {
  ContentHasher hasher;
  Status s = decode_batch(raw, max_events,
                          [&](const DecodedBatchHeader& header, const DecodedEvent& event) {
                            std::string_view canonical = hasher.add(canonical_view(header, event));
                            if (fingerprints != nullptr) {
                              fingerprints->push_back(event_fingerprint(canonical));
                            }
                          });
  if (!s.is_ok()) {
    return s;
  }
  BatchContent out;
  out.events = hasher.events();
  out.content = hasher.finish();
  return out;
}

Digest chain_link(uint64_t seq, uint64_t prev_seq, const Digest& prev_link, uint32_t event_count,
                  const Digest& content) {
  std::string input(kLinkLabel);
  put_u64(input, seq);
  put_u64(input, prev_seq);
  input.append(reinterpret_cast<const char*>(prev_link.data()), prev_link.size());
  put_u32(input, event_count);
  input.append(reinterpret_cast<const char*>(content.data()), content.size());
  return sha256(input);
}

std::string checkpoint_message(uint64_t seq, const Digest& link) {
  std::string out(kCheckpointLabel);
  put_u64(out, seq);
  out.append(reinterpret_cast<const char*>(link.data()), link.size());
  return out;
}

uint32_t event_fingerprint(std::string_view canonical) {
  return crc32c::value(canonical);
}

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

bool digest_from_hex(std::string_view hex, Digest& out) {
  if (hex.size() != 2 * kDigestBytes) {
    return false;
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    return -1;
  };
  for (size_t i = 0; i < kDigestBytes; ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return false;
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace assas::transport
