// The op template: an op_block holding a payload (buffer and kernel-visible state), the
// handler and its work guard. Layering after asio/detail/io_uring_operation.hpp.
#pragma once

#include <asio_uring/detail/handler_work.hpp>
#include <asio_uring/detail/op_block.hpp>
#include <asio_uring/detail/scheduler.hpp>

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>

#include <new>
#include <optional>
#include <tuple>
#include <utility>

namespace asio_uring::detail {

/// Installed in a handler's cancellation slot: forwards the emitted type to the scheduler,
/// which turns it into IORING_OP_ASYNC_CANCEL.
struct cancel_handler {
  scheduler* sched;
  op_block* op;
  void operator()(boost::asio::cancellation_type_t type) const { sched->cancel(op, type); }
};

// Payload requirements:
//   static constexpr bool owned;            buffer held by the block, handed back at completion
//   int prepare(op_block&);                 fills op.sqe_ from block memory; returns 1 to submit,
//                                           or 0 / -errno to complete at once without an SQE
//   std::tuple<...> take(int res, unsigned cqe_flags);   the completion's arguments
//   std::tuple<...> take_aborted();         terminal cancel of an op the kernel cannot interrupt
// Optional:
//   void on_more(int res, unsigned flags);  a CQE with IORING_CQE_F_MORE (SEND_ZC's result)
//   void discard(int res, unsigned flags) noexcept;  a result no handler will see (an fd...)
//   std::int64_t deadline_ns();             a timer wait, kept in the scheduler's heap
template <class Payload, class Handler, class IoExecutor>
class uring_op final : public op_block {
public:
  template <class H, class... Args>
  static void start(scheduler& s, H&& handler, const IoExecutor& io_ex, Args&&... args) {
    static_assert(alignof(uring_op) <= alignof(std::max_align_t));
    void* mem = s.allocate_block(sizeof(uring_op));
    uring_op* op;
    try {
      op = ::new (mem) uring_op(s, std::forward<H>(handler), io_ex, std::forward<Args>(args)...);
    } catch (...) {
      s.deallocate_block(mem, sizeof(uring_op));
      throw;
    }
    s.work_started();
    int r = op->payload_.prepare(*op);
    auto slot = boost::asio::get_associated_cancellation_slot(*op->handler_);
    if (slot.is_connected())
      slot.template emplace<cancel_handler>(cancel_handler{&s, op});
    if (r > 0) {
      if constexpr (requires { op->payload_.deadline_ns(); })
        s.start_timer(op, op->payload_.deadline_ns());
      else
        s.start(op);
    } else
      s.complete_immediately(op, r);
  }

private:
  template <class H, class... Args>
  uring_op(scheduler& s, H&& handler, const IoExecutor& io_ex, Args&&... args)
      : op_block(&table, static_cast<std::uint32_t>(sizeof(uring_op))),
        payload_(std::forward<Args>(args)...), handler_(std::forward<H>(handler)),
        work_(std::in_place, *handler_, io_ex), sched_(&s) {
    if constexpr (Payload::owned)
      state_ |= owned;
  }

  void clear_slot() {
    auto slot = boost::asio::get_associated_cancellation_slot(*handler_);
    if (slot.is_connected())
      slot.clear();
  }

  template <class Args>
  static void upcall(uring_op* op, Args&& args) {
    op->clear_slot();
    Handler handler(std::move(*op->handler_));
    op->handler_.reset();
    handler_work<Handler, IoExecutor> work(std::move(*op->work_));
    op->work_.reset();
    scheduler& s = *op->sched_;
    s.release_block(op); // may free the block: nothing of it is touched below
    struct finish {
      scheduler& s;
      ~finish() { s.work_finished(); }
    } guard{s};
    auto alloc = boost::asio::get_associated_allocator(handler);
    work.complete(
        [h = std::move(handler), a = std::forward<Args>(args)]() mutable {
          std::apply(std::move(h), std::move(a));
        },
        alloc);
  }

  static void do_complete(op_block* base, scheduler&, int res, unsigned flags, bool& invoked) {
    auto* op = static_cast<uring_op*>(base);
    invoked = true;
    upcall(op, op->payload_.take(res, flags));
  }

  static void do_more(op_block* base, scheduler&, int res, unsigned flags, bool&) {
    static_cast<uring_op*>(base)->payload_.on_more(res, flags);
  }

  static void do_discard(op_block* base, int res, unsigned flags) noexcept {
    static_cast<uring_op*>(base)->payload_.discard(res, flags);
  }

  static constexpr auto more_hook() noexcept {
    if constexpr (requires(Payload & p) { p.on_more(0, 0u); })
      return &do_more;
    else
      return static_cast<decltype(&do_more)>(nullptr);
  }
  static constexpr auto discard_hook() noexcept {
    if constexpr (requires(Payload & p) { p.discard(0, 0u); })
      return &do_discard;
    else
      return static_cast<decltype(&do_discard)>(nullptr);
  }

  static void do_orphan(op_block* base, scheduler&) {
    auto* op = static_cast<uring_op*>(base);
    upcall(op, op->payload_.take_aborted());
  }

  static void do_destroy_handler(op_block* base) {
    auto* op = static_cast<uring_op*>(base);
    op->clear_slot();
    op->handler_.reset();
    op->work_.reset();
  }

  static void do_destroy(op_block* base, scheduler* s) {
    auto* op = static_cast<uring_op*>(base);
    scheduler* owner = s ? s : op->sched_;
    op->~uring_op();
    owner->deallocate_block(op, sizeof(uring_op));
  }

  static constexpr vtable table = {&do_complete, &do_orphan,  &do_destroy_handler,
                                   &do_destroy,  more_hook(), discard_hook()};

  Payload payload_;
  std::optional<Handler> handler_;
  std::optional<handler_work<Handler, IoExecutor>> work_;
  scheduler* sched_;
};

} // namespace asio_uring::detail
