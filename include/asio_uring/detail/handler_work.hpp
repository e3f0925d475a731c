// Keeps a handler's executor busy while its op is in flight and delivers the completion as a
// dispatch: inline on the context's running thread, through the executor otherwise.
#pragma once

#include <asio_uring/io_context.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/prefer.hpp>

#include <type_traits>
#include <utility>

namespace asio_uring::detail {

template <class T>
struct is_uring_executor : std::false_type {};
template <class A, std::uintptr_t B>
struct is_uring_executor<io_context::basic_executor_type<A, B>> : std::true_type {};

template <class Handler, class IoExecutor>
class handler_work {
public:
  using executor_type = boost::asio::associated_executor_t<Handler, IoExecutor>;
  using work_type = std::decay_t<decltype(boost::asio::prefer(
      std::declval<const executor_type&>(), boost::asio::execution::outstanding_work.tracked))>;

  handler_work(const Handler& h, const IoExecutor& io_ex)
      : work_(boost::asio::prefer(boost::asio::get_associated_executor(h, io_ex),
                                  boost::asio::execution::outstanding_work.tracked)) {}

  /// Invokes `f` (the bound handler) as Asio's handler_work would.
  template <class Function, class Alloc>
  void complete(Function&& f, const Alloc& alloc) {
    if (can_run_inline()) {
      std::forward<Function>(f)();
      return;
    }
    boost::asio::prefer(work_, boost::asio::execution::blocking.possibly,
                        boost::asio::execution::allocator(alloc))
        .execute(std::forward<Function>(f));
  }

private:
  template <class Ex>
  static bool inline_on(const Ex& ex) {
    return ex.running_in_this_thread() &&
           boost::asio::query(ex, boost::asio::execution::blocking) !=
               boost::asio::execution::blocking.never;
  }
  bool can_run_inline() const {
    if constexpr (is_uring_executor<work_type>::value) {
      return inline_on(work_);
    } else if constexpr (std::is_same_v<work_type, boost::asio::any_io_executor>) {
      using tracked = io_context::basic_executor_type<std::allocator<void>, 4>;
      if (const tracked* t = work_.template target<tracked>())
        return inline_on(*t);
      if (const io_context::executor_type* u = work_.template target<io_context::executor_type>())
        return inline_on(*u);
      return false;
    } else {
      return false;
    }
  }

  work_type work_;
};

} // namespace asio_uring::detail
