// Test access to the op-block state machine, on a ring the kernel never sees. Not public API:
// it exists for the model-based test (test/unit/op_block_model.cpp) and the linked-timeout
// tests (test/unit/beast_stream.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace asio_uring::detail {

class scheduler;
class op_block;

/// While a probe lives, its thread counts as running the scheduler, but the ring is never
/// enabled: initiations and cancellations prepare their SQEs exactly as they do when running
/// (the test reads them back) and no SQE reaches the kernel; the test makes up the CQEs and hands
/// them to the scheduler's real CQE handling. Throws std::logic_error if the context already ran.
class scheduler_probe {
public:
  explicit scheduler_probe(scheduler& s);
  ~scheduler_probe();
  scheduler_probe(const scheduler_probe&) = delete;
  scheduler_probe& operator=(const scheduler_probe&) = delete;

  struct prepared_sqe {
    std::uint64_t user_data;
    std::uint8_t opcode;
    std::uint8_t flags;          // IOSQE_*
    std::uint64_t addr;          // for IORING_OP_LINK_TIMEOUT: its __kernel_timespec
    std::uint32_t timeout_flags; // IORING_TIMEOUT_*
  };
  /// The SQEs prepared since the last call, in order.
  std::vector<prepared_sqe> take_prepared();
  /// A CQE as the run loop sees it, then whatever it queued (a gated op's abort...).
  void deliver(std::uint64_t user_data, int res, unsigned flags);
  /// Runs the scheduler's queue (no kernel involved).
  void run_queued();
  /// A CQE the kernel posts while shutdown drains: handled by the shutdown, not now.
  void arrives_during_shutdown(std::uint64_t user_data, int res, unsigned flags);
  /// The context's shutdown, now (its destructor repeats it, finding nothing left); returns
  /// how many operations it abandoned.
  std::size_t shutdown();
  /// Ops whose SQE was prepared and whose block has not been freed.
  std::size_t blocks_started_not_freed() const noexcept;

private:
  scheduler& s_;
  unsigned cursor_;
  void* frame_;
};

} // namespace asio_uring::detail
