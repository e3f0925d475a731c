// The op block: one in-flight io_uring operation, the unit the safety contract is about.
#pragma once

#include <asio_uring/detail/scheduler_operation.hpp>

#include <boost/asio/cancellation_type.hpp>

#include <cstdint>

namespace asio_uring::detail {

class socket_state;
class op_block;

/// Holds ops that are neither queued nor in the kernel until it can complete them: a multishot
/// source's waiters, a signal set's waits. Called on the thread running the context.
class op_parking {
public:
  /// `op` was started (do_start): keep it until a result is due.
  virtual void park(scheduler& s, op_block* op) = 0;
  /// Forget `op` (cancelled, or destroyed at shutdown); the scheduler completes or frees it.
  virtual void unpark(scheduler& s, op_block* op) noexcept = 0;

protected:
  ~op_parking() = default;
};

/// What the SQE for this op will say. Filled by the op template from memory that lives in the
/// block itself (buffer, iovec, timespec), copied into the SQE by the scheduler in lib/.
struct sqe_args {
  std::uint8_t opcode = 0;    // IORING_OP_*
  std::uint8_t sqe_flags = 0; // IOSQE_*
  std::uint16_t ioprio = 0;
  std::int32_t fd = -1;
  std::uint64_t off = 0;
  std::uint64_t addr = 0;
  std::uint32_t len = 0;
  std::uint32_t op_flags = 0; // rw_flags / timeout_flags / msg_flags ...
  std::uint16_t buf_index = 0;
};

/// Base of every op. Its address is the SQE's user_data (low bits tag the CQE kind, hence the
/// alignment, also where it is not the first base of its op). The block is
/// recycled only after its final CQE and the CQE of every cancel SQE naming it (scheduler.cpp).
class alignas(16) op_block : public scheduler_operation {
public:
  struct vtable {
    /// Final CQE, handler present: move the handler and result out, release the block, upcall
    /// (and say so in `invoked`).
    void (*complete)(op_block*, scheduler&, int res, unsigned cqe_flags, bool& invoked);
    /// Terminal cancel answered EALREADY: complete the handler now with operation_aborted;
    /// the payload (owned buffer) stays in the block until the final CQE.
    void (*orphan)(op_block*, scheduler&);
    /// Shutdown: destroy the handler without invoking it; the payload stays.
    void (*destroy_handler)(op_block*);
    /// Destroy what is left (payload, handler if any) and return the memory.
    void (*destroy)(op_block*, scheduler*);
    /// A CQE with IORING_CQE_F_MORE (multishot, SEND_ZC's first); null: the op has none.
    void (*more)(op_block*, scheduler&, int res, unsigned cqe_flags, bool& invoked);
    /// A result that no handler will see (shutdown, orphaned op): release what it carries
    /// (an accepted fd, a ring buffer). Null: results carry nothing.
    void (*discard)(op_block*, int res, unsigned cqe_flags) noexcept;
  };

  enum state_bits : std::uint16_t {
    handler_live = 1 << 0,  // the handler still lives in the block
    in_kernel = 1 << 1,     // an SQE was prepared; its final CQE has not arrived
    final_cqe = 1 << 2,     // the final CQE arrived
    owned = 1 << 3,         // owned-buffer op: terminal cancel may orphan it
    immediate = 1 << 4,     // queued to complete with `immediate_res_`, no SQE
    queued = 1 << 5,        // sits in a scheduler queue (start or immediate)
    cancel_queued = 1 << 6, // a cross-thread cancel request for it is queued
    cancel_before_start = 1 << 7,
    timer_wait = 1 << 8,      // a timer wait: lives in the scheduler's heap, not in the kernel
    gated = 1 << 9,           // waits behind the stream's op in flight in its direction
    gate_send = 1 << 10,      // uses the send-direction gate of `sock_` (else the receive one)
    parked = 1 << 11,         // held by `parking_` until a result is due
    carries_result = 1 << 12, // queued with a kernel result (an fd, a ring buffer) to hand over
    link_timeout = 1 << 13,   // its SQE goes in linked to an IORING_OP_LINK_TIMEOUT
  };

  /// The kernel's __kernel_timespec, kept in the block: the LINK_TIMEOUT SQE points at it.
  struct kernel_timespec {
    std::int64_t tv_sec;
    long long tv_nsec;
  };

  /// Links a kernel timeout to this op's SQE: at `deadline_ns` (steady_clock) the kernel
  /// cancels the op, which then completes with ECANCELED. Set by `prepare`, before the start.
  void link_deadline(std::int64_t deadline_ns) noexcept {
    state_ |= link_timeout;
    link_ts_ = {deadline_ns / 1'000'000'000, deadline_ns % 1'000'000'000};
  }

  sqe_args sqe_;
  std::uint16_t state_ = 0;
  std::uint16_t cancels_in_flight_ = 0; // CQEs still due that name the block besides its own
                                        // (cancel SQEs, the linked timeout)
  boost::asio::cancellation_type_t cancel_type_ = boost::asio::cancellation_type::none;
  int immediate_res_ = 0;
  unsigned immediate_flags_ = 0; // CQE flags of a result delivered without its own CQE
  std::uint32_t heap_index_ = 0; // position in the scheduler's timer heap
  union {
    std::int64_t deadline_ns_ = 0; // timer waits: steady_clock deadline
    kernel_timespec link_ts_;      // ops with a linked timeout: its absolute CLOCK_MONOTONIC time
  };
  std::uint32_t block_size_ = 0; // bytes from the scheduler's block pool
  const vtable* vtbl_;
  socket_state* sock_ = nullptr;  // stream socket whose per-direction order this op keeps
  op_parking* parking_ = nullptr; // started by parking, not by an SQE
  op_block* live_prev_ = nullptr; // scheduler's list of ops it must drain at shutdown
  op_block* live_next_ = nullptr;

  /// Queue hook used by a cancellation emitted on a thread that is not running the context.
  class cancel_request : public scheduler_operation {
  public:
    explicit cancel_request(func_type f) noexcept : scheduler_operation(f) {}
    boost::asio::cancellation_type_t type_ = boost::asio::cancellation_type::none;
    op_block* op_ = nullptr;
    scheduler* scheduler_ = nullptr;
  } cancel_request_;

protected:
  op_block(const vtable* v, std::uint32_t block_size) noexcept;
  ~op_block() = default;

private:
  friend class scheduler;
  static void do_queued(scheduler* owner, scheduler_operation* base);
  static void do_cancel_request(scheduler* owner, scheduler_operation* base);
};

/// The low bits of user_data say what a CQE is about. Blocks are at least 16-byte aligned.
enum class cqe_tag : std::uint64_t {
  op = 0,
  cancel = 1,
  wake = 2,
  internal = 3,
  timer = 4,
  link_timeout = 5, // the IORING_OP_LINK_TIMEOUT linked to an op: never the op's result
};
inline constexpr std::uint64_t cqe_tag_mask = 0xF;

} // namespace asio_uring::detail
