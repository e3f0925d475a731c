// Private: the liburing ring of one scheduler and the state only its running thread touches.
#pragma once

#include <asio_uring/io_context_options.hpp>

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

namespace asio_uring::detail {

/// user_data of the eventfd poll that wakes a blocked run (tag 2, see op_block.hpp).
inline constexpr std::uint64_t wake_user_data = 2;

struct ring_state {
  /// Creates the ring with the best flags the kernel accepts; throws system_error with the cause
  /// and remedy if io_uring cannot be used at all.
  explicit ring_state(const io_context_options& opts);
  ~ring_state();
  ring_state(const ring_state&) = delete;
  ring_state& operator=(const ring_state&) = delete;

  /// Called on the thread about to run the context: enables an R_DISABLED ring, making this
  /// thread its single issuer. Re-creates an idle ring if another thread now runs it.
  void bind_to_this_thread(bool idle);

  /// A free SQE; flushes a full SQ (stashing CQEs if the kernel pushes back) and retries.
  io_uring_sqe* get_sqe();
  /// Makes room for `n` consecutive SQEs (a linked pair must not be split by a flush).
  void reserve_sqes(unsigned n);
  void flush_full_sq();
  /// Takes every CQE now in the CQ into `stash` (used when the kernel refuses submission).
  void stash_cqes();
  /// Whether the kernel knows `opcode` (IORING_REGISTER_PROBE at setup).
  bool supports(unsigned opcode) const noexcept {
    return opcode < 256 && (probed_ops[opcode / 64] >> (opcode % 64)) & 1;
  }
  bool has_pending_sqes() const noexcept { return io_uring_sq_ready(&ring) > 0; }
  /// CQEs in the CQ, or overflowed ones the kernel holds (flushed by the next peek).
  bool cq_may_have_cqes() const noexcept {
    return io_uring_cq_ready(&ring) > 0 ||
           (IO_URING_READ_ONCE(*ring.sq.kflags) & IORING_SQ_CQ_OVERFLOW);
  }

  io_uring ring{};
  unsigned generation = 0; // bumped each time the ring is (re-)created
  unsigned setup_flags = 0;
  bool enabled = false;
  std::thread::id owner;
  int wake_fd = -1; // eventfd other threads write; the ring polls it
  bool wake_armed = false;
  std::size_t in_kernel = 0;    // SQEs prepared whose final CQE is still due (ops, cancels, wake)
  __kernel_timespec timer_ts{}; // the heap's kernel timeout, read when its SQE is consumed
  std::uint64_t probed_ops[4] = {};
  std::vector<io_uring_cqe> stash;
  std::size_t stash_pos = 0;

private:
  void setup();
  void probe();
  io_context_options opts_;
};

} // namespace asio_uring::detail
