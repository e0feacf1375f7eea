#include "common/handle.hpp"

#include <gtest/gtest.h>

#include <utility>

namespace airstrap {
namespace {

int released = 0;
void release(int* p) {
    ++released;
    delete p;
}
using IntHandle = Handle<int, release>;

TEST(Handle, ReleasesOnceAndMovesOwnership) {
    released = 0;
    {
        IntHandle a(new int(7), "no int");
        IntHandle b = std::move(a);
        EXPECT_EQ(*b.get(), 7);
        IntHandle c(new int(8), "no int");
        c = std::move(b);  // c's own int is released now, b's moves over
        EXPECT_EQ(released, 1);
        EXPECT_EQ(*c.get(), 7);
    }
    EXPECT_EQ(released, 2);
}

TEST(Handle, NoHandleIsAnErrorNamingWhat) {
    released = 0;
    try {
        IntHandle h(nullptr, "libsolv: cannot create a pool");
        FAIL() << "a null handle was accepted";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "libsolv: cannot create a pool");
    }
    EXPECT_EQ(released, 0);
}

}  // namespace
}  // namespace airstrap
