// Consumer check: an installed asio_uring, plain header-only Asio, runs a posted handler.
#include <asio_uring.hpp>

#include <boost/asio/post.hpp>

int main() {
  asio_uring::io_context ctx;
  bool ran = false;
  boost::asio::post(ctx, [&ran] { ran = true; });
  ctx.run();
  return ran ? 0 : 1;
}
