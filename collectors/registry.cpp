#include "collectors/registry.h"

#include "collectors/file/file_collector.h"
#include "collectors/journal/journal_collector.h"
#include "collectors/syslog/syslog_collector.h"

namespace assas::collectors {
namespace {

struct CollectorType {
  const char* type;
  Status (*check)(const std::string& name, const ConfigNode& node);
  Result<std::unique_ptr<agent::Collector>> (*make)(uv_loop_t* loop, const std::string& name,
                                                    const ConfigNode& node);
};

// A collector type whose collector is made from its parsed config alone.
template <typename Config, Result<Config> (*parse)(const ConfigNode&, const std::string&)>
Status check_config(const std::string& name, const ConfigNode& node) {
  return parse(node, name).status();
}

template <typename Config, typename Made,
          Result<Config> (*parse)(const ConfigNode&, const std::string&)>
Result<std::unique_ptr<agent::Collector>> make_from_config(uv_loop_t* loop, const std::string& name,
                                                           const ConfigNode& node) {
  Result<Config> config = parse(node, name);
  if (!config.is_ok()) {
    return config.status();
  }
  return std::unique_ptr<agent::Collector>(std::make_unique<Made>(loop, std::move(config).value()));
}

Result<std::unique_ptr<agent::Collector>> make_syslog(uv_loop_t* loop, const std::string& name,
                                                      const ConfigNode& node) {
  Result<SyslogCollectorConfig> config = parse_syslog_collector_config(node, name);
  if (!config.is_ok()) {
    return config.status();
  }
  Result<std::shared_ptr<transport::TlsContext>> tls = make_syslog_tls(*config);
  if (!tls.is_ok()) {
    return tls.status();
  }
  return std::unique_ptr<agent::Collector>(
      std::make_unique<SyslogCollector>(loop, std::move(config).value(), std::move(tls).value()));
}

// Also loads the TLS listener's certificate and key, so that --check finds a bad one.
Status check_syslog(const std::string& name, const ConfigNode& node) {
  Result<SyslogCollectorConfig> config = parse_syslog_collector_config(node, name);
  if (!config.is_ok()) {
    return config.status();
  }
  return make_syslog_tls(*config).status();
}

constexpr CollectorType kTypes[] = {
    {"file", &check_config<FileCollectorConfig, &parse_file_collector_config>,
     &make_from_config<FileCollectorConfig, FileCollector, &parse_file_collector_config>},
    {"syslog", &check_syslog, &make_syslog},
    {"journal", &check_config<JournalCollectorConfig, &parse_journal_collector_config>,
     &make_from_config<JournalCollectorConfig, JournalCollector, &parse_journal_collector_config>},
};

const CollectorType* find(const std::string& type) {
  for (const CollectorType& t : kTypes) {
    if (type == t.type) {
      return &t;
    }
  }
  return nullptr;
}

Status unknown_type(const std::string& type, const ConfigNode& node) {
  std::string valid;
  for (const CollectorType& t : kTypes) {
    valid += valid.empty() ? "" : ", ";
    valid += t.type;
  }
  std::optional<ConfigNode> at = node.get("type");
  return (at ? *at : node).error("'" + type + "' is not a collector type; valid types: " + valid);
}

}  // namespace

Status check_collector_config(const std::string& type, const std::string& name,
                              const ConfigNode& node) {
  const CollectorType* t = find(type);
  if (t == nullptr) {
    return unknown_type(type, node);
  }
  return t->check(name, node);
}

Result<std::unique_ptr<agent::Collector>> make_collector(uv_loop_t* loop, const std::string& type,
                                                         const std::string& name,
                                                         const ConfigNode& node) {
  const CollectorType* t = find(type);
  if (t == nullptr) {
    return unknown_type(type, node);
  }
  return t->make(loop, name, node);
}

}  // namespace assas::collectors
