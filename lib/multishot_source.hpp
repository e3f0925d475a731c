// Private: one multishot operation per socket (recv with kernel-chosen buffers, or accept) whose
// CQEs are handed to waiting operations in order, or kept until one asks.
#pragma once

#include <asio_uring/buffer_ring.hpp>
#include <asio_uring/detail/op_block.hpp>
#include <asio_uring/detail/scheduler.hpp>

#include <cstddef>
#include <memory>
#include <vector>

namespace asio_uring::detail {

class multishot_source final : public op_block, public op_parking {
public:
  enum class kind : std::uint8_t { receive, accept };

  multishot_source(scheduler& s, kind k, int fd, std::shared_ptr<buffer_ring_state> ring);
  multishot_source(const multishot_source&) = delete;
  multishot_source& operator=(const multishot_source&) = delete;

  kind source_kind() const noexcept { return kind_; }
  const std::shared_ptr<buffer_ring_state>& ring() const noexcept { return ring_; }

  void park(scheduler& s, op_block* op) override;
  void unpark(scheduler& s, op_block* op) noexcept override;

  /// The socket's operations were cancelled: waiters complete with operation_aborted; the
  /// kernel side was cancelled by the same ASYNC_CANCEL_FD. With `closing`, the source is
  /// freed once the kernel is done with it. Thread running the context.
  void cancel_waiters(scheduler& s, bool closing) noexcept;
  /// Buffers came back to a ring that had run dry: receive again if someone waits.
  void buffers_returned(scheduler& s);
  /// The socket state goes away (no thread runs the context, or it was shut down).
  void abandon() noexcept;

private:
  static void on_final(op_block* base, scheduler& s, int res, unsigned flags, bool& invoked);
  static void on_more(op_block* base, scheduler& s, int res, unsigned flags, bool& invoked);
  static void on_orphan(op_block*, scheduler&) {}
  static void on_destroy_handler(op_block*) {}
  static void on_free(op_block* base, scheduler* s);
  static void on_discard(op_block* base, int res, unsigned flags) noexcept;
  static constexpr vtable table = {&on_final, &on_orphan, &on_destroy_handler,
                                   &on_free,  &on_more,   &on_discard};

  struct result {
    int res;
    unsigned flags;
  };
  void deliver(scheduler& s, int res, unsigned flags, bool final, bool& invoked);
  bool want_arm() const noexcept;
  void arm(scheduler& s);
  void discard_result(int res, unsigned flags) noexcept;
  ~multishot_source();

  kind kind_;
  bool multishot_;
  bool busy_ = false;     // the block is with the scheduler: SQE or cancel CQEs outstanding
  bool detached_ = false; // the socket let go: free when the kernel is done
  bool starved_ = false;  // the ring ran dry (ENOBUFS): re-armed when buffers come back
  int fd_;
  std::shared_ptr<buffer_ring_state> ring_;
  op_queue<scheduler_operation> waiters_;
  std::vector<result> results_; // results no one waited for yet, oldest first from head_
  std::size_t head_ = 0;
  /// Accepted connections kept without a waiter before the multishot accept is paused (the
  /// kernel's backlog holds the rest).
  static constexpr std::size_t max_queued_accepts = 64;
};

} // namespace asio_uring::detail
