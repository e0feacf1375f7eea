#include "common/error.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>

namespace airstrap {
namespace {

// Calls `f` and returns the exception it throws, so that a test can inspect it.
template <typename F>
std::exception_ptr capture(F&& f) {
    try {
        f();
    } catch (...) {
        return std::current_exception();
    }
    return nullptr;
}

// Runs `check` on the std::exception held by `p`.
template <typename Check>
void with_exception(std::exception_ptr p, Check&& check) {
    ASSERT_NE(p, nullptr) << "nothing was thrown";
    try {
        std::rethrow_exception(p);
    } catch (const std::exception& e) {
        check(e);
    }
}

TEST(Describe, SingleExceptionIsItsMessage) {
    std::runtime_error e("plain failure");
    EXPECT_EQ(describe(e), "plain failure");
    EXPECT_EQ(describe(InputError("bad flag")), "bad flag");
}

TEST(Describe, JoinsANestedChainOutermostFirst) {
    auto p = capture([] {
        try {
            try {
                throw InputError("'lab 1' is not a site name");
            } catch (...) {
                std::throw_with_nested(Error("reading site.yaml"));
            }
        } catch (...) {
            std::throw_with_nested(std::runtime_error("airstrap render"));
        }
    });
    with_exception(p, [](const std::exception& e) {
        EXPECT_EQ(describe(e), "airstrap render: reading site.yaml: 'lab 1' is not a site name");
    });
}

TEST(Describe, TwoLinks) {
    auto p = capture([] {
        try {
            throw std::runtime_error("inner");
        } catch (...) {
            std::throw_with_nested(std::runtime_error("outer"));
        }
    });
    with_exception(p, [](const std::exception& e) { EXPECT_EQ(describe(e), "outer: inner"); });
}

TEST(Describe, StopsAtANonStandardNestedException) {
    auto p = capture([] {
        try {
            throw 42;
        } catch (...) {
            std::throw_with_nested(std::runtime_error("outer"));
        }
    });
    with_exception(p, [](const std::exception& e) { EXPECT_EQ(describe(e), "outer"); });
}

TEST(ExitCodeOf, PlainRuntimeErrorIsFailure) {
    EXPECT_EQ(exit_code_of(std::runtime_error("x")), ExitCode::failure);
    EXPECT_EQ(exit_code_of(std::logic_error("x")), ExitCode::failure);
}

TEST(ExitCodeOf, AirstrapErrorsCarryTheirCode) {
    EXPECT_EQ(exit_code_of(Error("x")), ExitCode::failure);
    EXPECT_EQ(exit_code_of(InputError("x")), ExitCode::bad_input);
    EXPECT_EQ(exit_code_of(SystemError("cannot open f", ENOENT)), ExitCode::failure);
    EXPECT_EQ(static_cast<int>(ExitCode::ok), 0);
    EXPECT_EQ(static_cast<int>(ExitCode::failure), 1);
    EXPECT_EQ(static_cast<int>(ExitCode::bad_input), 2);
}

TEST(ExitCodeOf, InputErrorDeepInTheChainIsBadInput) {
    auto p = capture([] {
        try {
            try {
                throw InputError("prefix length '/31' is out of range");
            } catch (...) {
                std::throw_with_nested(std::runtime_error("checking networks"));
            }
        } catch (...) {
            std::throw_with_nested(std::runtime_error("airstrap check"));
        }
    });
    with_exception(
        p, [](const std::exception& e) { EXPECT_EQ(exit_code_of(e), ExitCode::bad_input); });
}

TEST(ExitCodeOf, InputErrorWrappedInAPlainErrorIsBadInput) {
    auto p = capture([] {
        try {
            throw InputError("bad");
        } catch (...) {
            std::throw_with_nested(Error("loading"));
        }
    });
    with_exception(
        p, [](const std::exception& e) { EXPECT_EQ(exit_code_of(e), ExitCode::bad_input); });
}

TEST(ExitCodeOf, InputErrorWrappingAPlainExceptionIsBadInput) {
    auto p = capture([] {
        try {
            throw std::runtime_error("inner detail");
        } catch (...) {
            std::throw_with_nested(InputError("--site: not usable"));
        }
    });
    with_exception(
        p, [](const std::exception& e) { EXPECT_EQ(exit_code_of(e), ExitCode::bad_input); });
}

TEST(ExitCodeOf, ChainWithoutAirstrapErrorsIsFailure) {
    auto p = capture([] {
        try {
            throw std::runtime_error("inner");
        } catch (...) {
            std::throw_with_nested(std::runtime_error("outer"));
        }
    });
    with_exception(p,
                   [](const std::exception& e) { EXPECT_EQ(exit_code_of(e), ExitCode::failure); });
}

TEST(SystemError, MessageContainsStrerrorText) {
    SystemError e("cannot open /etc/airstrap/site.yaml", ENOENT);
    std::string what = e.what();
    EXPECT_EQ(what, std::string("cannot open /etc/airstrap/site.yaml: ") + std::strerror(ENOENT));
    EXPECT_NE(what.find(std::strerror(ENOENT)), std::string::npos);
    EXPECT_EQ(e.errnum(), ENOENT);
    EXPECT_EQ(e.exit_code(), ExitCode::failure);
}

TEST(SystemError, DifferentErrnoDifferentText) {
    SystemError a("x", EACCES);
    SystemError b("x", ENOSPC);
    EXPECT_NE(std::string(a.what()), std::string(b.what()));
    EXPECT_NE(std::string(a.what()).find(std::strerror(EACCES)), std::string::npos);
    EXPECT_EQ(b.errnum(), ENOSPC);
}

TEST(ErrorHierarchy, AllAreRuntimeErrors) {
    InputError in("i");
    SystemError sys("s", EIO);
    const std::runtime_error& r1 = in;
    const Error& r2 = sys;
    EXPECT_STREQ(r1.what(), "i");
    EXPECT_EQ(r2.exit_code(), ExitCode::failure);
    const Error& r3 = in;
    EXPECT_EQ(r3.exit_code(), ExitCode::bad_input);  // virtual dispatch
}

}  // namespace
}  // namespace airstrap
