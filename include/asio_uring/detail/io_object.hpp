// What every I/O object needs first: its executor's io_context, or a clear error.
#pragma once

#include <asio_uring/io_context.hpp>

#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/execution_context.hpp>

#include <stdexcept>

namespace asio_uring::detail {

/// The scheduler behind `ex`; throws std::invalid_argument if `ex` belongs to another context.
template <class Executor>
scheduler& scheduler_of(const Executor& ex) {
  boost::asio::execution_context& ctx = boost::asio::query(ex, boost::asio::execution::context);
  // Only an asio_uring::io_context holds a scheduler service.
  if (boost::asio::has_service<scheduler>(ctx))
    return static_cast<io_context&>(ctx).impl();
  throw std::invalid_argument("asio_uring: an I/O object needs an executor of an "
                              "asio_uring::io_context; this executor belongs to another "
                              "execution context (e.g. boost::asio::io_context)");
}

} // namespace asio_uring::detail
