// A posted function in the scheduler's queue, allocated from the context's block pool or from
// the function's own allocator.
#pragma once

#include <asio_uring/detail/scheduler.hpp>
#include <asio_uring/detail/scheduler_operation.hpp>

#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace asio_uring::detail {

template <class Function, class Allocator>
class executor_op final : public scheduler_operation {
  static constexpr bool pooled = std::is_same_v<Allocator, std::allocator<void>>;
  using alloc_type = typename std::allocator_traits<Allocator>::template rebind_alloc<executor_op>;

public:
  /// Allocates, constructs and queues. Counts as outstanding work until it has run.
  template <class F>
  static void post(scheduler& s, F&& f, const Allocator& a) {
    executor_op* op;
    if constexpr (pooled) {
      static_assert(alignof(executor_op) <= alignof(std::max_align_t));
      void* mem = s.allocate_block(sizeof(executor_op));
      try {
        op = ::new (mem) executor_op(std::forward<F>(f), a, &s);
      } catch (...) {
        s.deallocate_block(mem, sizeof(executor_op));
        throw;
      }
    } else {
      alloc_type alloc(a);
      executor_op* mem = std::allocator_traits<alloc_type>::allocate(alloc, 1);
      try {
        op = ::new (static_cast<void*>(mem)) executor_op(std::forward<F>(f), a, &s);
      } catch (...) {
        std::allocator_traits<alloc_type>::deallocate(alloc, mem, 1);
        throw;
      }
    }
    s.work_started(); // only once nothing can throw any more
    s.post(op);
  }

private:
  template <class F>
  executor_op(F&& f, const Allocator& a, scheduler* s)
      : scheduler_operation(&do_complete), function_(std::forward<F>(f)), allocator_(a),
        scheduler_(s) {}

  // Frees the op before the upcall, so a function that posts again may reuse the memory.
  static void do_complete(scheduler* owner, scheduler_operation* base) {
    auto* op = static_cast<executor_op*>(base);
    scheduler& s = *op->scheduler_;
    Function f(std::move(op->function_));
    Allocator a(op->allocator_);
    op->~executor_op();
    if constexpr (pooled) {
      s.deallocate_block(op, sizeof(executor_op));
    } else {
      alloc_type alloc(a);
      std::allocator_traits<alloc_type>::deallocate(alloc, op, 1);
    }
    struct work_guard {
      scheduler& s;
      ~work_guard() { s.work_finished(); }
    } guard{s};
    if (owner)
      std::move(f)();
  }

  Function function_;
  Allocator allocator_;
  scheduler* scheduler_;
};

} // namespace asio_uring::detail
