#include "cli/signal_watcher.hpp"

#include <pthread.h>

#include <cerrno>
#include <ctime>

namespace kiq::cli {

SignalWatcher::SignalWatcher(Handlers handlers) : handlers_(std::move(handlers)) {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTSTP);
  pthread_sigmask(SIG_BLOCK, &signals_, &previous_mask_);
  thread_ = std::thread([this] { loop(); });
}

SignalWatcher::~SignalWatcher() {
  done_ = true;
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

void SignalWatcher::loop() {
  // A short timeout lets the destructor end the loop without sending ourselves a signal.
  const timespec tick{0, 200'000'000};
  while (!done_) {
    int sig = sigtimedwait(&signals_, nullptr, &tick);
    if (sig == SIGTSTP) {
      if (handlers_.quiet) handlers_.quiet();
    } else if (sig == SIGTERM || sig == SIGINT) {
      if (handlers_.stop) handlers_.stop();
    }
    // sig < 0: EAGAIN (timeout) or EINTR; loop and re-check done_.
  }
}

}  // namespace kiq::cli
