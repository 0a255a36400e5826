#include "agent/metrics_file.h"

#include <memory>

#include "base/file_util.h"
#include "base/log.h"

namespace assas::agent {

MetricsFile::MetricsFile(uv_loop_t* loop, Worker& worker, MetricsFileOptions options,
                         std::function<std::string()> render)
    : worker_(worker), options_(std::move(options)), render_(std::move(render)) {
  ASSAS_CHECK(uv_timer_init(loop, &timer_) == 0, "uv_timer_init cannot fail");
  timer_.data = this;
  auto every = static_cast<uint64_t>(options_.interval.count());
  ASSAS_CHECK(uv_timer_start(&timer_, &MetricsFile::on_timer, every, every) == 0,
              "uv_timer_start cannot fail on an initialised timer");
}

MetricsFile::~MetricsFile() {
  ASSAS_CHECK(closing_ && closer_.idle(), "MetricsFile destroyed before close() completed");
}

void MetricsFile::on_timer(uv_timer_t* timer) noexcept {
  static_cast<MetricsFile*>(timer->data)->write(nullptr);
}

void MetricsFile::write(std::function<void()> then) {
  if (writing_) {
    return;  // the disk is slow: skip a tick rather than queue them
  }
  writing_ = true;
  auto result = std::make_shared<Status>();
  worker_.post([result, path = options_.path,
                text = render_()] { *result = atomic_write_file(path, text, /*durable=*/false); },
               [this, result, then = std::move(then)] {
                 writing_ = false;
                 if (!result->is_ok() && !failing_) {
                   ASSAS_LOG(kWarn,
                             "cannot write the metrics file; trying again at the next interval",
                             log::kv("path", options_.path), log::kv("error", result->to_string()));
                 }
                 failing_ = !result->is_ok();
                 if (then) {
                   then();
                 }
               });
}

void MetricsFile::close(std::function<void()> on_closed) {
  if (closing_) {
    return;
  }
  closing_ = true;
  on_closed_ = std::move(on_closed);
  uv_timer_stop(&timer_);
  closer_.close(&timer_);
  closer_.when_closed([](void* self) { static_cast<MetricsFile*>(self)->maybe_closed(); }, this);
  // The final figures; a write already in flight carries older ones, so this one waits for it.
  auto final_write = [this] {
    write([this] {
      final_written_ = true;
      maybe_closed();
    });
  };
  if (writing_) {
    worker_.post([] {}, final_write);
  } else {
    final_write();
  }
}

void MetricsFile::maybe_closed() {
  if (!final_written_ || !closer_.idle() || !on_closed_) {
    return;
  }
  auto done = std::move(on_closed_);
  done();
}

}  // namespace assas::agent
