#include "ingest/verify/stream_tracker.h"

#include "transport/tls/chain_signer.h"

namespace assas::ingest {
namespace {

// Whether a status ("gap", "break-link+break-signature") holds the word.
bool has_word(std::string_view status, std::string_view word) {
  while (true) {
    size_t plus = status.find('+');
    if (status.substr(0, plus) == word) {
      return true;
    }
    if (plus == std::string_view::npos) {
      return false;
    }
    status.remove_prefix(plus + 1);
  }
}

std::string batch_name(const ChainRecord& r) {
  return "batch " + std::to_string(r.seq) + " (stream " + stream_hex(r.stream) + ")";
}

std::string plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

void StreamTracker::check(const LocatedRecord& located, const std::string& chain_path,
                          const transport::Digest* computed_link) {
  const ChainRecord& r = located.record;
  Stream& stream = streams_[r.stream];
  check_status(stream, located, chain_path);
  const bool backwards = stream.batches > 0 && r.seq <= stream.last_seq;
  check_continuity(stream, located, chain_path);

  const bool is_signed =
      !r.signature.empty() &&
      check_signature(located, chain_path, computed_link ? *computed_link : r.link);
  if (is_signed) {
    stream.last_signed_seq = r.seq;
    stream.unsigned_after = 0;
  } else if (has_word(r.status, "unchained")) {
    if (stream.unchained++ == 0) {
      stream.unchained_path = chain_path;
      stream.unchained_line = located.chain_line;
    }
  } else if (stream.unsigned_after++ == 0) {
    stream.unsigned_path = chain_path;
    stream.unsigned_line = located.chain_line;
  }
  ++stream.batches;
  if (!backwards) {
    // A record out of order is reported once; the ones after it are checked against the stream
    // as it was before it.
    stream.last_seq = r.seq;
    stream.last_link = r.link;
  }
}

void StreamTracker::check_status(const Stream& stream, const LocatedRecord& located,
                                 const std::string& chain_path) {
  const ChainRecord& r = located.record;
  auto recorded = [&](FindingKind kind, std::string details) {
    note_(Finding{chain_path, located.chain_line, kind, std::move(details)});
  };
  if (is_break_status(r.status)) {
    recorded(FindingKind::kRecordedBreak,
             batch_name(r) + " was stored with status " + r.status + " (docs/integrity.md)");
  } else if (has_word(r.status, "gap")) {
    // The agent's chain went on through the batches it lost: they are the ones after the last
    // stored batch up to the one this batch continues.
    const uint64_t from = stream.batches > 0 ? stream.last_seq + 1 : 1;
    recorded(FindingKind::kRecordedGap, "the agent declared batches " + std::to_string(from) +
                                            " to " + std::to_string(r.prev_seq) + " lost before " +
                                            batch_name(r));
  } else if (has_word(r.status, "restart")) {
    recorded(FindingKind::kRecordedRestart,
             "the agent restarted its chain at " + batch_name(r) + " (its chain state was lost)");
  }
}

void StreamTracker::check_continuity(const Stream& stream, const LocatedRecord& located,
                                     const std::string& chain_path) {
  const ChainRecord& r = located.record;
  auto problem = [&](FindingKind kind, std::string details) {
    note_(Finding{chain_path, located.chain_line, kind, std::move(details)});
  };
  const std::string prev = "batch " + std::to_string(r.prev_seq);
  const std::string last = "batch " + std::to_string(stream.last_seq);
  const bool has_last = stream.batches > 0;
  if (has_last && r.seq <= stream.last_seq) {
    problem(FindingKind::kReordered,
            batch_name(r) + " comes after " + last + ": the chain file was edited");
    return;
  }
  const bool links_to_last = has_last && r.prev_seq == stream.last_seq;
  const bool bad_link = links_to_last && r.prev_link != stream.last_link;
  if (r.status == "ok") {
    // The receiver stored this batch as the continuation of the one before it.
    if (!has_last && r.prev_seq != 0) {
      problem(FindingKind::kRemoved, batch_name(r) + " continues " + prev +
                                         ", which is not stored before it (removed, or in an "
                                         "events file that is gone)");
    } else if (has_last && r.prev_seq > stream.last_seq) {
      problem(FindingKind::kRemoved, "batches " + std::to_string(stream.last_seq + 1) + " to " +
                                         std::to_string(r.prev_seq) + " are missing before " +
                                         batch_name(r) + ": the chain file was edited");
    } else if (has_last && r.prev_seq < stream.last_seq) {
      problem(FindingKind::kReordered, batch_name(r) + " continues " + prev + " but follows " +
                                           last + ": the chain file was edited");
    } else if (bad_link) {
      problem(FindingKind::kAltered, batch_name(r) + " does not continue the stored link of " +
                                         prev + ": the chain file was edited");
    }
  } else if (bad_link && !has_word(r.status, "break-link")) {
    problem(FindingKind::kAltered, batch_name(r) + " does not continue the stored link of " + prev +
                                       ": the chain file was edited");
  }
}

bool StreamTracker::check_signature(const LocatedRecord& located, const std::string& chain_path,
                                    const transport::Digest& link) {
  const ChainRecord& r = located.record;
  auto problem = [&](FindingKind kind, std::string details) {
    note_(Finding{chain_path, located.chain_line, kind, std::move(details)});
  };
  if (r.cert.empty()) {
    problem(FindingKind::kBadSignature, batch_name(r) + " is signed but names no certificate");
    return false;
  }
  const CertStore::Cert& cert = certs_.get(r.cert);
  if (!cert.untrusted.empty() && !certs_reported_[r.cert]) {
    certs_reported_[r.cert] = true;
    problem(FindingKind::kBadCertificate, cert.untrusted);
  }
  if (cert.key == nullptr) {
    problem(FindingKind::kBadSignature, batch_name(r) + " cannot be checked: " + cert.unusable);
    return false;
  }
  if (transport::verify_checkpoint(cert.key, r.seq, link, r.signature)) {
    // An untrusted certificate's signature proves nothing; it was reported above.
    signatures_verified_ += cert.untrusted.empty() ? 1 : 0;
    return cert.untrusted.empty();
  }
  if (!has_word(r.status, "break-signature")) {  // else recorded on receipt, and listed
    problem(FindingKind::kBadSignature, batch_name(r) + " is not signed by the key of certs/" +
                                            r.cert.substr(0, 16) + "...pem");
  }
  return false;
}

void StreamTracker::check_state(const StoreState& state, const std::string& state_path) {
  for (const StreamState& committed : state.streams) {
    if (!committed.head_link) {
      continue;  // a state of an older format: its heads are unknown
    }
    auto it = streams_.find(committed.id);
    const uint64_t last = it == streams_.end() ? 0 : it->second.last_seq;
    const std::string name = "(stream " + stream_hex(committed.id) + ")";
    if (last < committed.upto) {
      note_(Finding{state_path, 1, FindingKind::kRemoved,
                    "the state file committed batches up to " + std::to_string(committed.upto) +
                        " " + name + ", but the files end " +
                        (last == 0 ? std::string("without any of them")
                                   : "at batch " + std::to_string(last)) +
                        ": the end of the stream was cut off"});
    } else if (last > committed.upto) {
      note_(Finding{state_path, 1, FindingKind::kInfo,
                    "batches after " + std::to_string(committed.upto) + " " + name +
                        " were written but never committed (a crash); assas-ingest cuts them " +
                        "off at its next start and the agent sends them again"});
    } else if (it->second.last_link != *committed.head_link) {
      note_(Finding{state_path, 1, FindingKind::kAltered,
                    "batch " + std::to_string(last) + " " + name +
                        " is not the batch the state file committed (its link differs)"});
    }
  }
}

void StreamTracker::finish() {
  for (const auto& [id, stream] : streams_) {
    const std::string stream_name = " of stream " + stream_hex(id);
    if (stream.unsigned_after > 0) {
      const uint64_t n = stream.unsigned_after;
      std::string details =
          stream.last_signed_seq != 0
              ? plural(n, "batch", "batches") + stream_name +
                    " after the last signed checkpoint (batch " +
                    std::to_string(stream.last_signed_seq) + (n == 1 ? ") is" : ") are") +
                    " chained but not signed"
              : plural(n, "batch", "batches") + stream_name +
                    (n == 1 ? " is chained but not signed" : " are chained but none is signed");
      note_(Finding{stream.unsigned_path, stream.unsigned_line, FindingKind::kInfo, details});
    }
    if (stream.unchained > 0) {
      const uint64_t n = stream.unchained;
      note_(Finding{stream.unchained_path, stream.unchained_line, FindingKind::kInfo,
                    plural(n, "batch", "batches") + stream_name + (n == 1 ? " is" : " are") +
                        " unchained (the agent runs with integrity.chain: false)"});
    }
  }
}

}  // namespace assas::ingest
