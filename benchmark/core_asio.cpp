// Core scenarios on boost::asio::io_context (epoll, or Asio's io_uring backend when built with
// BOOST_ASIO_HAS_IO_URING and BOOST_ASIO_DISABLE_EPOLL).
#include "core_scenarios.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

int main(int argc, char** argv) {
  return bench::main_for<boost::asio::io_context, boost::asio::steady_timer>(argc, argv);
}
