// Must NOT compile: an owned-buffer operation given an lvalue would have to copy silently.
// Built once with -DCONTROL (std::move: must compile) so the failure is known to be the lvalue.
#include <asio_uring.hpp>

#include <utility>
#include <vector>

int main() {
  asio_uring::io_context ctx;
  asio_uring::posix::stream_descriptor d(ctx);
  std::vector<char> buf(16);
#ifdef CONTROL
  d.async_read_some(std::move(buf), [](auto&&...) {});
#else
  d.async_read_some(buf, [](auto&&...) {}); // lvalue: rejected
#endif
}
