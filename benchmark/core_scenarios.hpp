// Context-level scenarios shared by the asio_uring and Asio builds: post throughput (same
// thread and cross-thread), timer wake-up latency, 10k concurrent timers. Each prints one
// number so that run.py can interleave builds and take same-run ratios.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace bench {

using clk = std::chrono::steady_clock;

inline double seconds_since(clk::time_point t0) {
  return std::chrono::duration<double>(clk::now() - t0).count();
}

// Posts from handlers on the running thread: 1M chained posts. Prints posts/s.
template <class Context>
double post_same_thread() {
  Context ctx;
  constexpr int n = 1'000'000;
  int left = n;
  struct next {
    Context* ctx;
    int* left;
    void operator()() const {
      if (--*left > 0)
        boost::asio::post(*ctx, next{ctx, left});
    }
  };
  auto t0 = clk::now();
  boost::asio::post(ctx, next{&ctx, &left});
  ctx.run();
  return n / seconds_since(t0);
}

// One producer thread posts 1M functions to a context run by another thread. Prints posts/s.
template <class Context>
double post_cross_thread() {
  Context ctx;
  constexpr int n = 1'000'000;
  auto guard = boost::asio::make_work_guard(ctx);
  std::atomic<int> done{0};
  std::thread runner([&] { ctx.run(); });
  auto t0 = clk::now();
  for (int i = 0; i < n; ++i)
    boost::asio::post(ctx, [&] { done.fetch_add(1, std::memory_order_relaxed); });
  guard.reset();
  runner.join();
  return n / seconds_since(t0);
}

// Sequential waits of 200 us: median lateness of the handler after the expiry, in us.
template <class Context, class Timer>
double timer_latency() {
  Context ctx;
  Timer t(ctx);
  std::vector<double> late;
  late.reserve(2000);
  struct waiter {
    Timer* t;
    std::vector<double>* late;
    void start() const {
      t->expires_after(std::chrono::microseconds(200));
      t->async_wait(*this);
    }
    void operator()(const boost::system::error_code&) const {
      late->push_back(std::chrono::duration<double, std::micro>(clk::now() - t->expiry()).count());
      if (late->size() < 2000)
        start();
    }
  };
  waiter{&t, &late}.start();
  ctx.run();
  std::nth_element(late.begin(), late.begin() + late.size() / 2, late.end());
  return late[late.size() / 2];
}

// 10,000 timers armed at once, spread over 10 ms: time from arming to the last handler, ms.
template <class Context, class Timer>
double timers_10k() {
  Context ctx;
  constexpr int n = 10'000;
  std::vector<std::unique_ptr<Timer>> timers;
  timers.reserve(n);
  int fired = 0;
  auto t0 = clk::now();
  for (int i = 0; i < n; ++i) {
    timers.push_back(std::make_unique<Timer>(ctx, std::chrono::microseconds(i)));
    timers.back()->async_wait([&](const boost::system::error_code&) { ++fired; });
  }
  ctx.run();
  if (fired != n)
    std::fprintf(stderr, "only %d of %d timers fired\n", fired, n);
  return seconds_since(t0) * 1e3;
}

template <class Context, class Timer>
int main_for(int argc, char** argv) {
  std::string s = argc > 1 ? argv[1] : "";
  double v;
  if (s == "post_same_thread")
    v = post_same_thread<Context>();
  else if (s == "post_cross_thread")
    v = post_cross_thread<Context>();
  else if (s == "timer_latency")
    v = timer_latency<Context, Timer>();
  else if (s == "timers_10k")
    v = timers_10k<Context, Timer>();
  else {
    std::fprintf(stderr, "usage: %s post_same_thread|post_cross_thread|timer_latency|timers_10k\n",
                 argv[0]);
    return 2;
  }
  std::printf("%.3f\n", v);
  return 0;
}

} // namespace bench
