#include "transport/nats/nats_error.h"

#include <string>

namespace assas::transport {

Status nats_error(natsStatus status, std::string_view context, jsErrCode code) {
  std::string message(context);
  message += ": ";
  message += natsStatus_GetText(status);
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0' && last != NATS_OK) {
    message += " (";
    message += detail;
    message += ")";
  }
  if (code != 0) {
    message += " [JetStream error " + std::to_string(static_cast<int>(code)) + "]";
  }
  switch (status) {
    case NATS_NOT_PERMITTED:
    case NATS_SSL_ERROR:
    case NATS_CONNECTION_AUTH_FAILED:
      return permission_denied(message);
    case NATS_INVALID_ARG:
    case NATS_NOT_FOUND:
      return code != 0 ? not_found(message) : invalid_argument(message);
    default:
      return unavailable(message);
  }
}

}  // namespace assas::transport
