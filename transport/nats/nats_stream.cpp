#include "transport/nats/nats_stream.h"

#include <string>
#include <vector>

#include "base/log.h"
#include "transport/nats/nats_error.h"
#include "transport/nats/nats_subject.h"

namespace assas::transport {
namespace {

// JetStream's "stream not found" (JSStreamNotFoundErr).
constexpr int kStreamNotFound = 10059;

int64_t to_nanos(std::chrono::milliseconds ms) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(ms).count();
}

}  // namespace

Status ensure_nats_stream(jsCtx* js, const NatsStreamOptions& stream,
                          std::string_view subject_template, std::string_view output) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js, stream.name.c_str(), nullptr, &code);
  bool exists = s == NATS_OK;
  if (!exists && !(s == NATS_NOT_FOUND || code == kStreamNotFound)) {
    return nats_error(s, "stream '" + stream.name + "': cannot read its info", code);
  }
  if (!stream.create) {
    if (!exists) {
      return not_found("stream '" + stream.name +
                       "' does not exist; create it (docs/outputs/nats.md) or set stream.create: "
                       "true");
    }
    if (info->Config->Duplicates < to_nanos(stream.duplicate_window)) {
      ASSAS_LOG(kWarn,
                "the stream's duplicate window is shorter than stream.duplicate_window; resends "
                "after a longer outage may be stored twice",
                log::kv("output", output), log::kv("stream", stream.name),
                log::kv("window_ms", info->Config->Duplicates / 1000000));
    }
    jsStreamInfo_Destroy(info);
    return Status::ok();
  }
  jsStreamInfo_Destroy(info);
  std::vector<std::string> subjects = stream.subjects;
  if (subjects.empty()) {
    subjects.push_back(subject_wildcard(subject_template));
  }
  std::vector<const char*> subject_ptrs;
  subject_ptrs.reserve(subjects.size());
  for (const std::string& subject : subjects) {
    subject_ptrs.push_back(subject.c_str());
  }
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = stream.name.c_str();
  config.Subjects = subject_ptrs.data();
  config.SubjectsLen = static_cast<int>(subject_ptrs.size());
  config.Storage = js_FileStorage;
  config.Replicas = stream.replicas;
  config.MaxAge = to_nanos(stream.max_age);
  config.MaxBytes = stream.max_bytes;
  config.Duplicates = to_nanos(stream.duplicate_window);
  code = static_cast<jsErrCode>(0);
  s = exists ? js_UpdateStream(&info, js, &config, nullptr, &code)
             : js_AddStream(&info, js, &config, nullptr, &code);
  if (s != NATS_OK) {
    return nats_error(
        s, std::string(exists ? "updating" : "creating") + " stream '" + stream.name + "'", code);
  }
  jsStreamInfo_Destroy(info);
  ASSAS_LOG(kInfo, exists ? "stream updated" : "stream created", log::kv("output", output),
            log::kv("stream", stream.name), log::kv("replicas", stream.replicas));
  return Status::ok();
}

}  // namespace assas::transport
