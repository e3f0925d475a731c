// Must NOT compile: an owned-buffer operation given an lvalue would have to copy silently.
// Built once with -DCONTROL (std::move: must compile) so the failure is known to be the lvalue.
#include <asio_uring.hpp>

#include <utility>
#include <vector>

int main() {
  asio_uring::io_context ctx;
  asio_uring::posix::stream_descriptor d(ctx);
  asio_uring::ip::tcp::socket s(ctx);
  std::vector<char> buf(16), out(16);
#ifdef CONTROL
  d.async_read_some(std::move(buf), [](auto&&...) {});
  s.async_send(std::move(out), [](auto&&...) {});
#elif defined(SOCKET)
  d.async_read_some(std::move(buf), [](auto&&...) {});
  s.async_send(out, [](auto&&...) {}); // lvalue: rejected
#else
  d.async_read_some(buf, [](auto&&...) {}); // lvalue: rejected
  s.async_send(std::move(out), [](auto&&...) {});
#endif
}
