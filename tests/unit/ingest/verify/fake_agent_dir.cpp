#include "tests/unit/ingest/verify/fake_agent_dir.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tests/support/temp_dir.h"
#include "transport/protocol/event_json.h"

namespace assas::ingest::test {
namespace {

constexpr std::string_view kIdentity = "web-01";

void make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    throw std::runtime_error("mkdir " + path);
  }
}

const assas::test::TestPki& pki_in(const char* name, const char* agent) {
  // Leaked on purpose: lives for the whole test run, its directory with it.
  static auto* dir = new assas::test::TempDir("assas-verify-pki");
  static std::map<std::string, assas::test::TestPki> pkis;
  auto it = pkis.find(name);
  if (it == pkis.end()) {
    it = pkis.emplace(name, assas::test::make_test_pki(dir->file(name), agent)).first;
  }
  return it->second;
}

}  // namespace

TestSigner make_signer(const assas::test::TestPki& pki) {
  TestSigner out;
  Result<std::unique_ptr<transport::ChainSigner>> signer =
      transport::ChainSigner::from_key_file(pki.client_key());
  if (!signer.is_ok()) {
    throw std::runtime_error(signer.status().to_string());
  }
  out.signer = std::move(signer).value();
  out.cert_pem = assas::test::read_text_file(pki.client_cert());
  BIO* bio = BIO_new_mem_buf(out.cert_pem.data(), static_cast<int>(out.cert_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) {
    throw std::runtime_error("cannot read " + pki.client_cert());
  }
  out.fingerprint = transport::certificate_fingerprint(cert);
  X509_free(cert);
  return out;
}

const assas::test::TestPki& first_pki() {
  return pki_in("first", "web-01");
}

const assas::test::TestPki& second_pki() {
  return pki_in("second", "web-01");
}

FakeAgentDir::FakeAgentDir(std::string dir, const TestSigner* signer)
    : dir_(std::move(dir)), signer_(signer) {
  make_dir(dir_);
  assas::test::write_text_file(dir_ + "/state", encode_store_state(state_));
  assas::test::write_text_file(events_path(index_), "");
  assas::test::write_text_file(chain_path(index_), std::string(kChainFileHeader));
  if (signer_ != nullptr) {
    make_dir(dir_ + "/certs");
    assas::test::write_text_file(dir_ + "/certs/" + signer_->fingerprint + ".pem",
                                 signer_->cert_pem);
  }
}

std::string FakeAgentDir::events_path(uint32_t index) const {
  char name[40];
  std::snprintf(name, sizeof name, "/events-%08u.jsonl", index);
  return dir_ + name;
}

std::string FakeAgentDir::chain_path(uint32_t index) const {
  char name[40];
  std::snprintf(name, sizeof name, "/events-%08u.chain", index);
  return dir_ + name;
}

void FakeAgentDir::rotate() {
  ++index_;
  lines_ = 0;
  assas::test::write_text_file(events_path(index_), "");
  assas::test::write_text_file(chain_path(index_), std::string(kChainFileHeader));
}

std::string FakeAgentDir::make_batch(uint64_t stream, uint64_t seq, uint32_t events) {
  // Events of every shape the JSON writer has: plain, not UTF-8 (message_base64), odd field keys
  // (key_base64), empty values, times before 1970.
  transport::BatchEncoder encoder;
  std::vector<transport::Field> stream_fields = {{"service", "sshd"}, {"site", ""}};
  uint32_t index = encoder.add_stream("auth", "/var/log/auth.log", stream_fields);
  for (uint32_t i = 0; i < events; ++i) {
    ++counter_;
    std::string message = "stream " + std::to_string(stream) + " batch " + std::to_string(seq) +
                          " event " + std::to_string(i) + " Failed password for root #" +
                          std::to_string(counter_);
    const std::string pid = std::to_string(counter_);  // the field views point into it
    std::vector<transport::FieldView> fields;
    if (counter_ % 3 == 0) {
      message += "\xff\xfe raw";
    }
    if (counter_ % 4 == 0) {
      fields.emplace_back("we\"ird", "\x01value");
      fields.emplace_back("pid", pid);
    }
    int64_t time_ns = 1795000000000000000LL + static_cast<int64_t>(counter_) * 1000003;
    if (counter_ % 5 == 0) {
      time_ns = -static_cast<int64_t>(counter_) * 1000000007;
    }
    encoder.add_event(time_ns, index, counter_ * 100, message, fields);
  }
  return encoder.finish("web-01.example");
}

uint64_t FakeAgentDir::add_batch(uint64_t stream, const BatchOptions& options) {
  StreamHead& head = heads_[stream];
  const bool first = head.seq == 0;
  const uint64_t seq = head.seq + 1 + options.lost;
  const std::string raw = make_batch(stream, seq, options.events);

  ChainRecord record;
  record.stream = stream;
  record.seq = seq;
  record.prev_seq = head.seq;
  record.prev_link = head.link;
  if (options.lost > 0) {
    // The agent's chain goes on through the batches it lost: this one continues the last of
    // them, whose link the receiver never saw (docs/integrity.md, status gap).
    record.prev_seq = seq - 1;
    record.prev_link = transport::chain_link(seq - 1, 0, transport::Digest{}, 0, head.link);
  }
  Result<transport::BatchContent> content =
      transport::hash_batch(raw, 1U << 20, &record.fingerprints);
  if (!content.is_ok()) {
    throw std::runtime_error(content.status().to_string());
  }
  record.link = transport::chain_link(seq, record.prev_seq, record.prev_link, content->events,
                                      content->content);
  record.line = lines_ + 1;
  record.events = content->events;
  record.status = !options.status.empty() ? options.status : first ? "start" : "ok";
  if (signer_ != nullptr && options.sign) {
    Result<std::string> signature = signer_->signer->sign(seq, record.link);
    if (!signature.is_ok()) {
      throw std::runtime_error(signature.status().to_string());
    }
    record.signature = *signature;
    record.cert = signer_->fingerprint;
  }

  std::string json;
  Status s = transport::decode_batch(
      raw, 1U << 20,
      [&](const transport::DecodedBatchHeader& header, const transport::DecodedEvent& event) {
        transport::append_event_json(json, kIdentity, header.host, event);
      });
  if (!s.is_ok()) {
    throw std::runtime_error(s.to_string());
  }
  std::string line;
  append_chain_record(line, record);
  assas::test::append_text_file(events_path(index_), json);
  assas::test::append_text_file(chain_path(index_), line);
  lines_ += record.events;
  head.seq = seq;
  head.link = record.link;
  // As the receiver commits it: verify checks where each stream ends against it.
  state_.set(stream, seq, record.link);
  state_.file_index = index_;
  assas::test::write_text_file(dir_ + "/state", encode_store_state(state_));
  return seq;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::istringstream in(assas::test::read_text_file(path));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) {
    text += line + '\n';
  }
  assas::test::write_text_file(path, text);
}

}  // namespace assas::ingest::test
