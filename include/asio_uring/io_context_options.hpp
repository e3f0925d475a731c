// Construction options for asio_uring::io_context.
#pragma once

#include <chrono>

namespace asio_uring {

/// When prepared SQEs reach the kernel.
enum class submit_policy {
  batch,    ///< once per loop turn, together with the wait for completions (default)
  immediate ///< at once, one io_uring_enter per operation (lowest latency on fast devices)
};

/// Ring and loop settings. Every setup flag is probed: a flag the kernel rejects is dropped.
struct io_context_options {
  unsigned entries = 256;    ///< submission queue size
  unsigned cq_entries = 0;   ///< completion queue size; 0 means 4 × entries
  bool single_issuer = true; ///< IORING_SETUP_SINGLE_ISSUER (the running thread owns the ring)
  bool defer_taskrun = true; ///< IORING_SETUP_DEFER_TASKRUN, else COOP_TASKRUN
  bool submit_all = true;    ///< IORING_SETUP_SUBMIT_ALL
  submit_policy submit = submit_policy::batch;
  /// Multishot accept and receive where the kernel has them (5.19 / 6.0); false forces the
  /// one-shot fallback (also taken by itself when the kernel answers EINVAL).
  bool multishot = true;
  /// How long shutdown waits for cancelled operations' CQEs before leaking them on purpose.
  std::chrono::milliseconds drain_timeout{2000};
};

} // namespace asio_uring
