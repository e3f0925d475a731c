// Consumer check: asio_uring via add_subdirectory, plain header-only Asio, runs a posted handler.
#include <asio_uring.hpp>

#include <boost/asio/post.hpp>

int main() {
  asio_uring::io_context ctx;
  bool ran = false;
  boost::asio::post(ctx, [&ran] { ran = true; });
  ctx.run();
  return ran ? 0 : 1;
}
