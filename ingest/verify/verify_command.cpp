#include "ingest/verify/verify_command.h"

#include <algorithm>
#include <cstdio>
#include <memory>

#include <sys/stat.h>

#include <dirent.h>

#include "ingest/verify/chain_verifier.h"

namespace assas::ingest {
namespace {

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// What assas-ingest keeps in an agent's directory: events files, their chain files, a state.
bool is_agent_file(std::string_view name) {
  return name == "state" ||
         (name.starts_with("events-") && (name.ends_with(".jsonl") || name.ends_with(".chain")));
}

// The names in dir, sorted; false if it cannot be read.
bool list_dir(const std::string& path, std::vector<std::string>& names) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    return false;
  }
  while (const dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return true;
}

bool is_agent_dir(const std::string& path) {
  std::vector<std::string> names;
  return list_dir(path, names) && std::any_of(names.begin(), names.end(), is_agent_file);
}

// The agents' directories a path names, or an error message.
bool resolve(const std::string& path, const std::string& data_dir,
             std::vector<std::string>& agents) {
  if (is_directory(path)) {
    if (is_agent_dir(path)) {
      agents.push_back(path);
      return true;
    }
    std::vector<std::string> names;
    if (!list_dir(path, names)) {
      std::fprintf(stderr, "assas-ingest verify: cannot read the directory '%s'\n", path.c_str());
      return false;
    }
    const size_t before = agents.size();
    for (const std::string& name : names) {
      std::string sub = path + (path.ends_with("/") ? "" : "/") + name;
      if (is_directory(sub) && is_agent_dir(sub)) {
        agents.push_back(sub);
      }
    }
    if (agents.size() == before) {
      std::fprintf(stderr,
                   "assas-ingest verify: '%s' is neither an agent's directory nor a data "
                   "directory holding any\n",
                   path.c_str());
      return false;
    }
    return true;
  }
  const std::string named = data_dir + "/" + path;
  if (path.find('/') == std::string::npos && is_directory(named)) {
    agents.push_back(named);
    return true;
  }
  std::fprintf(stderr,
               "assas-ingest verify: '%s' is not a directory, nor an agent's name under '%s' "
               "(--data-dir)\n",
               path.c_str(), data_dir.c_str());
  return false;
}

}  // namespace

int run_verify(const VerifyOptions& options) {
  std::vector<std::string> agents;
  for (const std::string& path : options.paths) {
    if (!resolve(path, options.data_dir, agents)) {
      return 2;
    }
  }
  std::unique_ptr<TrustedCa> ca;
  if (!options.ca_file.empty()) {
    Result<std::unique_ptr<TrustedCa>> loaded = TrustedCa::load(options.ca_file);
    if (!loaded.is_ok()) {
      std::fprintf(stderr, "assas-ingest verify: %s\n", loaded.status().message().c_str());
      return 2;
    }
    ca = std::move(loaded).value();
  }
  bool problems = false;
  bool recorded = false;
  bool could_not_run = false;
  for (const std::string& dir : agents) {
    Result<AgentReport> report = verify_agent_dir(dir, ca.get());
    if (!report.is_ok()) {
      std::fflush(stdout);
      std::fprintf(stderr, "assas-ingest verify: '%s' could not be verified: %s\n", dir.c_str(),
                   report.status().message().c_str());
      could_not_run = true;
      continue;
    }
    report->print(stdout);
    problems = problems || report->problems() > 0;
    recorded = recorded || report->recorded() > 0;
  }
  std::fflush(stdout);
  // A proven alteration outranks a run that could not finish; an incomplete run outranks gaps.
  if (problems) {
    return 1;
  }
  if (could_not_run) {
    return 2;
  }
  return recorded ? 3 : 0;
}

}  // namespace assas::ingest
