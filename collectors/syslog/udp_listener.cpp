#include "collectors/syslog/udp_listener.h"

#include <sys/socket.h>

#include "base/log.h"
#include "collectors/syslog/udp_socket_drops.h"

namespace assas::collectors {

namespace {

// The largest UDP payload (IPv4: 65535 - 8 - 20); a longer one cannot arrive.
constexpr size_t kMaxDatagram = 65507;

// Senders often end a datagram with a newline (or a NUL) that is framing, not message.
std::string_view without_trailer(std::string_view datagram) {
  while (!datagram.empty() &&
         (datagram.back() == '\n' || datagram.back() == '\r' || datagram.back() == '\0')) {
    datagram.remove_suffix(1);
  }
  return datagram;
}

}  // namespace

UdpListener::UdpListener(uv_loop_t* loop, SyslogIntake& intake, const SyslogCollectorConfig& config,
                         const transport::Endpoint& address, uint64_t receive_buffer_bytes)
    : intake_(intake),
      address_(address),
      receive_buffer_bytes_(receive_buffer_bytes),
      max_message_bytes_(config.max_message_bytes),
      queue_limit_(config.udp_queue_bytes) {
  stream_ = listener_stream(config, SyslogTransport::kUdp, address);
  buffer_.resize(kMaxDatagram + 1);  // one byte more: a datagram that fills it was cut
  ASSAS_CHECK(uv_udp_init(loop, &udp_) == 0, "udp init cannot fail");
  udp_.data = this;
}

UdpListener::~UdpListener() {
  ASSAS_CHECK(closed_, "UdpListener destroyed before close() completed");
}

Status UdpListener::start() {
  Result<sockaddr_storage> addr = transport::listen_sockaddr(address_);
  if (!addr.is_ok()) {
    return addr.status();
  }
  int rc = uv_udp_bind(&udp_, reinterpret_cast<const sockaddr*>(&*addr), 0);
  if (rc != 0) {
    return uv_status(rc, "listen on udp " + address_.to_string());
  }
  set_receive_buffer();
  rc = uv_udp_recv_start(&udp_, &UdpListener::on_alloc, &UdpListener::on_receive);
  if (rc != 0) {
    return uv_status(rc, "receive on udp " + address_.to_string());
  }
  return Status::ok();
}

// A burst of datagrams larger than the socket's receive buffer is dropped by the kernel. SO_RCVBUF
// is capped by net.core.rmem_max; SO_RCVBUFFORCE is not, but needs CAP_NET_ADMIN. Try both, and say
// what the kernel granted when it is less than asked.
void UdpListener::set_receive_buffer() {
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&udp_), &fd) != 0) {
    return;
  }
  int wanted = static_cast<int>(receive_buffer_bytes_);
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &wanted, sizeof wanted) != 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &wanted, sizeof wanted);
  }
  int granted = 0;
  socklen_t len = sizeof granted;
  // The kernel reports twice what it keeps for data (the rest is its bookkeeping).
  if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &len) == 0 && granted / 2 < wanted) {
    ASSAS_LOG(kWarn,
              "the UDP receive buffer is smaller than receive_buffer; raise net.core.rmem_max "
              "(sysctl) or give the agent CAP_NET_ADMIN",
              log::kv("address", address_.to_string()), log::kv("wanted", wanted),
              log::kv("granted", granted / 2));
  }
}

int UdpListener::bound_port() const {
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_udp_getsockname(&udp_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return 0;
  }
  return transport::port_of(reinterpret_cast<const sockaddr*>(&addr));
}

uint64_t UdpListener::kernel_drops() const {
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&udp_), &fd) != 0) {
    return 0;
  }
  return udp_socket_drops(fd).value_or(0);
}

void UdpListener::on_alloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) noexcept {
  auto* self = static_cast<UdpListener*>(handle->data);
  *buf = uv_buf_init(self->buffer_.data(), static_cast<unsigned>(self->buffer_.size()));
}

void UdpListener::on_receive(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf,
                             const sockaddr* addr, unsigned flags) noexcept {
  auto* self = static_cast<UdpListener*>(handle->data);
  if (nread < 0) {
    ASSAS_LOG(kWarn, "UDP receive failed", log::kv("address", self->address_.to_string()),
              log::kv("error", uv_strerror(static_cast<int>(nread))));
    return;
  }
  if (addr == nullptr) {
    return;  // nothing more to read for now
  }
  self->receive(std::string_view(buf->base, static_cast<size_t>(nread)), addr,
                (flags & UV_UDP_PARTIAL) != 0);
}

void UdpListener::receive(std::string_view datagram, const sockaddr* from, bool partial) {
  SyslogTransport udp = SyslogTransport::kUdp;
  if (!intake_.allowed(from)) {
    intake_.count_drop(udp, SyslogDrop::kNotAllowed);
    return;
  }
  SyslogSender sender{transport::ip_text(from), {}};
  if (intake_.take_token(sender) != 0) {
    intake_.count_drop(udp, SyslogDrop::kRateLimit);
    return;
  }
  datagram = without_trailer(datagram);
  if (datagram.empty()) {
    return;
  }
  SyslogMessage message{datagram, partial, datagram.size()};
  if (datagram.size() > max_message_bytes_) {
    message.bytes = datagram.substr(0, max_message_bytes_);
    message.truncated = true;
  }
  // Queued datagrams go first, so that the order of one sender is kept.
  if (queue_.empty() && !intake_.paused() && intake_.push(stream_, sender, message, udp)) {
    return;
  }
  if (queued_bytes_ + message.bytes.size() > queue_limit_) {
    intake_.count_drop(udp, SyslogDrop::kQueueFull);
    return;
  }
  queued_bytes_ += message.bytes.size();
  queue_.push_back(Queued{std::string(message.bytes), std::move(sender), message.truncated,
                          message.original_size});
}

void UdpListener::drain() {
  while (!queue_.empty() && !intake_.paused()) {
    Queued& front = queue_.front();
    SyslogMessage message{front.bytes, front.truncated, front.original_size};
    if (!intake_.push(stream_, front.sender, message, SyslogTransport::kUdp)) {
      return;
    }
    queued_bytes_ -= front.bytes.size();
    queue_.pop_front();
  }
}

void UdpListener::close(std::function<void()> on_closed) {
  if (!queue_.empty()) {
    ASSAS_LOG(kWarn, "stopping with UDP messages the pipeline had no room for; they are lost",
              log::kv("address", address_.to_string()), log::kv("messages", queue_.size()));
  }
  on_closed_ = std::move(on_closed);
  closer_.close(&udp_);
  closer_.when_closed(
      [](void* owner) {
        auto* self = static_cast<UdpListener*>(owner);
        self->closed_ = true;
        if (self->on_closed_) {
          self->on_closed_();
        }
      },
      this);
}

}  // namespace assas::collectors
