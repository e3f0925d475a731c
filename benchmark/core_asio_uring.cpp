// Core scenarios on asio_uring::io_context.
#include "core_scenarios.hpp"

#include <asio_uring.hpp>

int main(int argc, char** argv) {
  return bench::main_for<asio_uring::io_context, asio_uring::steady_timer>(argc, argv);
}
