// asio_uring::io_context: creates the scheduler service first, so it is shut down last.
#include <asio_uring/io_context.hpp>

namespace asio_uring {

namespace {
detail::scheduler& add_scheduler(boost::asio::execution_context& ctx,
                                 const io_context_options& opts) {
  auto* s = new detail::scheduler(ctx, opts);
  try {
    boost::asio::add_service<detail::scheduler>(ctx, s);
  } catch (...) {
    delete s;
    throw;
  }
  return *s;
}
} // namespace

io_context::io_context() : io_context(options{}) {}

io_context::io_context(int /*concurrency_hint*/) : io_context(options{}) {}

io_context::io_context(const options& opts) : impl_(add_scheduler(*this, opts)) {}

io_context::~io_context() {
  shutdown();
}

} // namespace asio_uring
