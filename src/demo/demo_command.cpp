// The `demo` subcommand of the kiq CLI.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "kiq/cli.hpp"
#include "kiq/demo.hpp"

namespace kiq::demo {

cli::Command command() {
  return {"demo", "Runs the tutorial's job scenarios on the embedded store and prints their traces",
          [](CLI::App& cmd, cli::Env& env) -> cli::Runner {
            auto options = std::make_shared<DemoOptions>();
            auto propagation = std::make_shared<std::string>("child");
            auto color = std::make_shared<bool>(false);
            auto no_color = std::make_shared<bool>(false);
            cmd.add_option("--time-scale", options->time_scale,
                           "Multiplier for retry backoff and scheduled delays (0 < x <= 1)")
                ->capture_default_str();
            cmd.add_option("--propagation", *propagation,
                           "How job spans relate to the enqueueing span: link | child | none")
                ->check(CLI::IsMember({"link", "child", "none"}))
                ->capture_default_str();
            cmd.add_option("-c,--concurrency", options->concurrency, "Worker threads")
                ->check(CLI::Range(1, 100))
                ->capture_default_str();
            cmd.add_flag("--color", *color, "Colour the output even when it is not a terminal");
            cmd.add_flag("--no-color", *no_color, "Never colour the output");
            cmd.add_flag("--all-attributes", options->all_attributes,
                         "Show the standard messaging attributes too");
            return [options, propagation, color, no_color, &env] {
              options->propagation = tracing::parse_propagation_style(*propagation);
              if (*color) options->color = true;
              if (*no_color) options->color = false;
              return run(*options, env.out, env.err);
            };
          }};
}

}  // namespace kiq::demo
