// SPDX-License-Identifier: Apache-2.0
// Contracts: FERRITE_ASSERT reports expression, message and file:line then aborts; the
// handler can be replaced (the model checker does so); FERRITE_DEBUG_ASSERT follows
// FERRITE_DEBUG; FERRITE_UNREACHABLE always reports.
#include "ferrite/core/contract.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

struct captured {
  std::string kind, expression, message, file;
  int line;
};

[[noreturn]] void throwing_handler(const ferrite::contract_violation& v) {
  throw captured{v.kind, v.expression, v.message, v.file, v.line};
}

class handler_scope {
 public:
  handler_scope() : previous_(ferrite::set_contract_handler(&throwing_handler)) {}
  ~handler_scope() { ferrite::set_contract_handler(previous_); }
  handler_scope(const handler_scope&) = delete;
  handler_scope& operator=(const handler_scope&) = delete;

 private:
  ferrite::contract_handler previous_;
};

int checked_half(int x) {
  FERRITE_ASSERT(x % 2 == 0, "x must be even");
  return x / 2;
}

TEST(Contract, PassingAssertIsSilent) { EXPECT_EQ(checked_half(8), 4); }

TEST(Contract, HandlerSeesTheViolation) {
  handler_scope scope;
  try {
    (void)checked_half(3);
    FAIL() << "the assertion did not fire";
  } catch (const captured& c) {
    EXPECT_EQ(c.kind, "assertion");
    EXPECT_EQ(c.expression, "x % 2 == 0");
    EXPECT_EQ(c.message, "x must be even");
    EXPECT_NE(c.file.find("contract_test.cpp"), std::string::npos);
    EXPECT_GT(c.line, 0);
  }
}

TEST(Contract, AssertWithoutMessage) {
  handler_scope scope;
  const int zero = 0;
  try {
    FERRITE_ASSERT(zero == 1);
    FAIL() << "the assertion did not fire";
  } catch (const captured& c) {
    EXPECT_EQ(c.expression, "zero == 1");
    EXPECT_EQ(c.message, "");
  }
}

TEST(Contract, DebugAssertFollowsFerriteDebug) {
  handler_scope scope;
  int evaluations = 0;
  auto count = [&] {
    ++evaluations;
    return false;
  };
  bool fired = false;
  try {
    FERRITE_DEBUG_ASSERT(count(), "debug only");
  } catch (const captured& c) {
    fired = true;
    EXPECT_EQ(c.kind, "debug assertion");
  }
  EXPECT_EQ(fired, FERRITE_DEBUG != 0);
  EXPECT_EQ(evaluations, FERRITE_DEBUG != 0 ? 1 : 0) << "disabled asserts must not evaluate";
}

TEST(Contract, UnreachableAlwaysReports) {
  handler_scope scope;
  try {
    FERRITE_UNREACHABLE("no such state");
  } catch (const captured& c) {
    EXPECT_EQ(c.kind, "unreachable");
    EXPECT_EQ(c.message, "no such state");
  }
}

TEST(ContractDeathTest, DefaultHandlerPrintsAndAborts) {
  EXPECT_DEATH((void)checked_half(5),
               "ferrite: assertion failed: x % 2 == 0 \\(x must be even\\) at .*contract_test.cpp:"
               "[0-9]+ in checked_half");
}

TEST(ContractDeathTest, ReturningHandlerStillAborts) {
  EXPECT_DEATH(
      {
        ferrite::set_contract_handler([](const ferrite::contract_violation&) {});
        (void)checked_half(1);
      },
      "");
}

}  // namespace
