// The ring owner behind asio_uring::io_context: queues, run loop, op submission and shutdown.
#pragma once

#include <asio_uring/detail/op_block.hpp>
#include <asio_uring/detail/scheduler_operation.hpp>
#include <asio_uring/io_context_options.hpp>

#include <boost/asio/execution_context.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

namespace asio_uring::detail {

struct ring_state; // lib/ring_state.hpp: the liburing ring and what only the running thread touches
class socket_state;
struct direction_gate;

class scheduler final : public boost::asio::execution_context::service {
public:
  static inline boost::asio::execution_context::id id;

  scheduler(boost::asio::execution_context& ctx, const io_context_options& opts);
  ~scheduler() override;

  // Running (one thread at a time).
  std::size_t run();
  std::size_t run_one();
  std::size_t wait_one(long usec); // run at most one handler, waiting up to usec
  std::size_t poll();
  std::size_t poll_one();
  void stop() noexcept;
  bool stopped() const noexcept { return stopped_.load(std::memory_order_acquire); }
  void restart() noexcept { stopped_.store(false, std::memory_order_release); }
  bool running_in_this_thread() const noexcept;

  // Outstanding work, as Asio counts it: run() returns when it reaches zero.
  void work_started() noexcept { outstanding_work_.fetch_add(1, std::memory_order_relaxed); }
  void work_finished() noexcept {
    if (outstanding_work_.fetch_sub(1, std::memory_order_acq_rel) == 1)
      stop();
  }

  /// Queues `op` (work already counted). Any thread.
  void post(scheduler_operation* op) noexcept;

  /// Memory for op blocks and posted functions, recycled per context. Any thread; blocks are
  /// only released by the running thread (or at shutdown).
  void* allocate_block(std::size_t size);
  void deallocate_block(void* p, std::size_t size) noexcept;
  static constexpr std::size_t block_round(std::size_t size) noexcept {
    return (size + block_granule - 1) & ~(block_granule - 1);
  }

  /// Submits op (or queues it for the running thread). Any thread.
  void start(op_block* op) noexcept;
  /// Starts a timer wait due at `deadline_ns` on steady_clock. Any thread.
  void start_timer(op_block* op, std::int64_t deadline_ns) noexcept;
  /// Queues op to complete with `res` without an SQE (immediate results are never inline).
  void complete_immediately(op_block* op, int res) noexcept;
  /// Bridge from a cancellation slot. Any thread.
  void cancel(op_block* op, boost::asio::cancellation_type_t type) noexcept;
  /// Cancels every op on `fd` (one ASYNC_CANCEL_FD|ALL), then closes it if asked. Any thread.
  /// `sock` (a reference the call takes over, may be null): the socket's queued and parked ops
  /// are aborted too.
  void cancel_fd(int fd, bool close_after, socket_state* sock = nullptr) noexcept;
  /// As above; `detach`: the socket lets go of `sock` (its multishot source stops for good).
  void cancel_fd(int fd, bool close_fd, bool detach, socket_state* sock) noexcept;

  // Used by multishot sources and parking sites, on the running thread.
  bool shutting_down() const noexcept { return shutting_down_; }
  /// The queue item now running was bookkeeping, not a handler (run_one does not count it).
  void mark_internal() noexcept { last_was_internal_ = true; }
  void submit_now(op_block* op) { do_start(op); }
  void cancel_now(op_block* op) { do_cancel(op, boost::asio::cancellation_type::total); }
  /// Completes a parked op with a result now (inside CQE handling).
  void complete_parked(op_block* op, int res, unsigned flags, bool& invoked);
  /// Completes a parked (or never parked) op with a result through the queue.
  void complete_parked_later(op_block* op, int res, unsigned flags) noexcept;
  /// Whether the kernel knows `opcode` (probed when the ring was set up).
  bool supports(unsigned opcode) const noexcept;

  // Used by op templates on the running thread.
  void release_block(op_block* op) noexcept; // after the handler has been moved out
  void capture_exception() noexcept { pending_exception_ = std::current_exception(); }

  /// Registers `n` buffers with the ring (a range of a sparse table); returns the first index.
  /// On the running thread, or before any thread ran the context. Throws system_error
  /// (ENOMEM names RLIMIT_MEMLOCK and the remedy).
  unsigned register_fixed_buffers(const void* base, std::size_t buffer_size, unsigned n);
  /// Gives a range back (its slots are cleared where this thread may still touch the ring).
  void release_fixed_buffers(unsigned first, unsigned n) noexcept;

  /// Registers a provided-buffer ring of `entries` slots at `ring_addr` (page aligned);
  /// returns its buffer group id. Same threads and errors as register_fixed_buffers.
  std::uint16_t register_buf_ring(void* ring_addr, unsigned entries);
  /// Unregisters it where this thread may; otherwise it stays registered (no op names it).
  void unregister_buf_ring(std::uint16_t group) noexcept;

  std::size_t abandoned_operations() const noexcept { return abandoned_; }
  /// Expires when the context shuts down (for objects that may outlive it, e.g. buffer pools).
  std::weak_ptr<void> alive_token() const noexcept { return alive_; }
  unsigned ring_setup_flags() const noexcept;
  const io_context_options& options() const noexcept { return options_; }

private:
  friend class op_block;
  friend struct ring_state;
  friend class scheduler_probe;
  static constexpr std::size_t block_granule = 64;
  static constexpr std::size_t block_classes = 32;         // pooled up to 2 KiB
  static constexpr std::uint32_t max_cached_blocks = 4096; // per size class

  class run_guard;
  friend struct owned_rings;
  void shutdown() override;
  void bind_owner();
  void drain_at_owner_exit() noexcept;
  void drain(bool may_submit);
  void handle_cqes_at_shutdown();
  std::size_t kernel_outstanding() const noexcept;
  std::size_t do_one(long usec);
  bool reap_one();
  void enter(long usec);
  void wake() noexcept;
  void do_start(op_block* op);
  void do_cancel(op_block* op, boost::asio::cancellation_type_t type);
  void free_block(op_block* op) noexcept;
  void unlink_parked(op_block* op) noexcept;
  void advance_gate(op_block* finished);
  void abort_gate(direction_gate& g, bool destroy) noexcept;
  void destroy_unstarted(op_block* op) noexcept;
  void handle_cqe(std::uint64_t user_data, int res, unsigned flags, bool& invoked);
  // Timer waits: a binary heap in user space, one kernel timeout armed for the earliest.
  void heap_push(op_block* op);
  void heap_remove(op_block* op);
  void heap_sift(std::size_t i);
  void fire_due_timers();
  void arm_timer_timeout();
  void enter_running_thread();
  void rethrow_pending();

  io_context_options options_;
  std::shared_ptr<void> alive_ = std::make_shared<int>(0);
  std::unique_ptr<ring_state> ring_;
  std::atomic<std::size_t> outstanding_work_{0};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> running_{false};
  std::atomic<bool> ever_ran_{false}; // a thread has run it: ops may be in the kernel
  bool shutting_down_ = false;
  std::size_t abandoned_ = 0;
  std::exception_ptr pending_exception_;

  // Cross-thread queue: taken under the mutex, spliced into the local queue by the runner.
  std::mutex remote_mutex_;
  op_queue<scheduler_operation> remote_;
  std::atomic<bool> remote_nonempty_{false};
  std::atomic<bool> sleeping_{false}; // the runner is (about to be) blocked in io_uring_enter

  // Touched only by the running thread (or the thread destroying the context).
  op_queue<scheduler_operation> local_;
  op_block* live_ = nullptr;   // ops that have an SQE in the kernel
  op_block* parked_ = nullptr; // ops held by a parking site (same links as live_)
  std::vector<op_block*> timer_heap_;
  struct fixed_range {
    unsigned first, n;
    const void* base;
    std::size_t buffer_size;
  };
  std::vector<fixed_range>
      fixed_ranges_; // registered buffer ranges (re-registered with a new ring)
  bool fixed_table_ = false;
  struct buf_ring_reg {
    std::uint16_t group;
    void* addr;
    unsigned entries;
  };
  // Registered buffer rings. A ring re-created for a new running thread does not get them back
  // (the kernel's ring head would restart at 0): docs/design.md.
  std::vector<buf_ring_reg> buf_rings_;
  std::uint16_t next_group_ = 0;
  bool timeout_armed_ = false; // the kernel timeout for the heap's earliest deadline
  std::int64_t armed_deadline_ = 0;
  bool timers_due_ = false;
  void* free_blocks_[block_classes] = {};
  std::uint32_t free_counts_[block_classes] = {};
  std::size_t handlers_since_enter_ = 0;
  bool last_was_internal_ = false; // the queue item just run was bookkeeping, not a handler
  struct owned_rings* owner_list_ = nullptr; // the owning thread's list (guarded by a mutex)
};

} // namespace asio_uring::detail
