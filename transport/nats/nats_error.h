#pragma once

// cnats's natsStatus (and JetStream error code) as a Status, once, at the boundary: with the
// library's own last error text of this thread, which says more than the status name (e.g.
// "certificate verify failed" or "Authorization Violation").

#include <string_view>

#include <nats/nats.h>

#include "base/status.h"

namespace assas::transport {

Status nats_error(natsStatus status, std::string_view context,
                  jsErrCode code = static_cast<jsErrCode>(0));

}  // namespace assas::transport
