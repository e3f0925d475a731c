// Out-of-line template definitions for asio_uring::io_context's executor.
#pragma once

#include <asio_uring/detail/executor_op.hpp>

#include <type_traits>
#include <utility>

namespace asio_uring {

template <class Allocator, std::uintptr_t Bits>
template <class Function>
void io_context::basic_executor_type<Allocator, Bits>::execute(Function&& f) const {
  using function_type = std::decay_t<Function>;
  if ((bits_ & blocking_never) == 0 && ctx_->impl_.running_in_this_thread()) {
    function_type tmp(std::forward<Function>(f));
    try {
      std::move(tmp)();
    } catch (...) {
      // As Asio does: the exception leaves the context's run() once the current handler is done.
      ctx_->impl_.capture_exception();
    }
    return;
  }
  detail::executor_op<function_type, Allocator>::post(ctx_->impl_, std::forward<Function>(f),
                                                      allocator_);
}

template <class Allocator, std::uintptr_t Bits>
template <class Function, class OtherAllocator>
void io_context::basic_executor_type<Allocator, Bits>::post_function(
    Function&& f, const OtherAllocator& a) const {
  detail::executor_op<std::decay_t<Function>, OtherAllocator>::post(ctx_->impl_,
                                                                    std::forward<Function>(f), a);
}

template <class Allocator, std::uintptr_t Bits>
template <class Function, class OtherAllocator>
void io_context::basic_executor_type<Allocator, Bits>::dispatch(Function&& f,
                                                                const OtherAllocator& a) const {
  if (ctx_->impl_.running_in_this_thread()) {
    std::decay_t<Function> tmp(std::forward<Function>(f));
    std::move(tmp)();
    return;
  }
  post_function(std::forward<Function>(f), a);
}

template <class Allocator, std::uintptr_t Bits>
template <class Function, class OtherAllocator>
void io_context::basic_executor_type<Allocator, Bits>::post(Function&& f,
                                                            const OtherAllocator& a) const {
  post_function(std::forward<Function>(f), a);
}

template <class Allocator, std::uintptr_t Bits>
template <class Function, class OtherAllocator>
void io_context::basic_executor_type<Allocator, Bits>::defer(Function&& f,
                                                             const OtherAllocator& a) const {
  post_function(std::forward<Function>(f), a);
}

} // namespace asio_uring
