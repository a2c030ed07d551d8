// SignalWatcher: turns SIGTERM/SIGINT/SIGTSTP into calls on the running server, from a plain
// thread that sigwait()s — no work in async signal handlers.
//
// The constructor blocks the three signals in the calling thread, so it must run before any
// other thread is started (threads inherit the mask, so the signals only reach sigwait).
// Thread-safety: one owner; the callbacks run on the watcher thread.
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace kiq::cli {

class SignalWatcher {
 public:
  struct Handlers {
    std::function<void()> stop;   // SIGTERM, SIGINT
    std::function<void()> quiet;  // SIGTSTP
  };

  explicit SignalWatcher(Handlers handlers);
  ~SignalWatcher();  // joins the thread and restores the previous signal mask
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  void loop();

  Handlers handlers_;
  sigset_t signals_{};
  sigset_t previous_mask_{};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace kiq::cli
