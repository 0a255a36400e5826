#pragma once

// Checks a file that a config value names (a CA bundle, a certificate, a private key), so that
// both programs report a missing or unsafe file the same way, at the value's position:
//   agent.yaml:14:7: outputs[0].tls.ca: file '/etc/assas/ca.pem' not found

#include "base/config_node.h"
#include "base/status.h"

namespace assas {

enum class ConfigFileKind {
  kPublic,      // must exist and be a regular file
  kPrivateKey,  // likewise, and not readable by group or others (chmod 600), as ssh requires
};

// node is a string value holding the path.
Status check_config_file(const ConfigNode& node, ConfigFileKind kind);

}  // namespace assas
