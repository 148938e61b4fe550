# SPDX-License-Identifier: Apache-2.0
# Planted bugs in the runtime's synchronization cores, one per core, each shown to be caught
# by the model test that targets it (like the broken zoo, but the mutant is the real header
# with one protocol step broken). At configure time a copy of the header is written with one
# snippet replaced (configure fails if the snippet is gone: update the mutant with the
# core); rt_sync_model_test.cpp is compiled against the copy (its include directory comes
# first) with FERRITE_RT_MUTANT_EXPECTS naming the failure the selected test must report.

# rt_sync_mutant(<name> <header> <gtest filter> <failure_kind> <original> <mutant>)
function(rt_sync_mutant name header filter kind original mutant)
  set(src "${PROJECT_SOURCE_DIR}/include/ferrite/rt/detail/${header}")
  file(READ "${src}" text)
  string(FIND "${text}" "${original}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "rt sync mutant '${name}': the snippet to break is no longer in "
      "${header}; update tests/model/broken/rt_sync_mutants.cmake")
  endif()
  string(REPLACE "${original}" "${mutant}" text "${text}")
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/rt_mutants/${name}")
  file(WRITE "${dir}/${header}.in" "${text}")
  configure_file("${dir}/${header}.in" "${dir}/ferrite/rt/detail/${header}" COPYONLY)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${src}")
  set(target model_rt_mutant_${name})
  ferrite_add_model_test(${target} NO_TEST SOURCES rt_sync_model_test.cpp
    LIBRARIES ferrite::sync GTest::gtest GTest::gmock GTest::gtest_main ferrite_warnings)
  target_include_directories(${target} BEFORE PRIVATE "${dir}")
  target_compile_definitions(${target} PRIVATE FERRITE_DEBUG=1 FERRITE_RT_MUTANT_EXPECTS=${kind})
  add_test(NAME BrokenRtSync.${name} COMMAND ${target} --gtest_filter=${filter})
  set_tests_properties(BrokenRtSync.${name} PROPERTIES LABELS model)
endfunction()

# notify: a wait queues without re-checking the permit under the lock, so a notify_one
# that stored it just before is lost: the waiter parks forever.
rt_sync_mutant(notify_lost_permit notify_core.hpp NotifyModel.NotifyOneRacingNotifiedIsNeverLost
  deadlock
  "      if (phase(s) == notified) {"
  "      if (false) {")
# oneshot: the send does not check that the receiver is still there, so a value sent to a
# dropped receiver is neither given back nor freed with the state (nobody is last).
rt_sync_mutant(oneshot_send_to_dropped oneshot_core.hpp OneshotModel.SendRacingReceiverDrop
  leak
  "      if (with_value && (s & rx_alive) == 0) return false;"
  "")
# channel: close() wakes the waiting receivers but forgets the waiting senders, which then
# wait forever for a receive that never comes.
rt_sync_mutant(channel_close_forgets_senders channel_core.hpp
  ChannelModel.CloseGivesAWaitingSendItsValueBack
  deadlock
  "      more = take_all_locked(senders_, wakes) || take_all_locked(receivers_, wakes);"
  "      more = take_all_locked(receivers_, wakes);")
# semaphore (async_mutex): an abandoned waiter that had been handed the lock does not pass
# it on: the mutex stays held by nobody.
rt_sync_mutant(mutex_abandon_keeps_lock semaphore_core.hpp
  SemaphoreModel.AGrantRacingTheWaitersAbandonment
  assertion
  "      release(w.data);"
  "      static_cast<void>(0);")
# thread_parker: the wake publishes `done` before it notifies, so the parked thread may
# return and destroy the parker while the waker still touches it.
rt_sync_mutant(parker_done_before_notify thread_parker.hpp
  ChannelModel.AReceiveHandsAWaitingSendersValueOn
  use_after_free
  "    // ORDERING: (P2) notify; see the table.
    p->state_.notify_one();
    // ORDERING: (P3) release; see the table.
    p->state_.store(done, std::memory_order_release);"
  "    p->state_.store(done, std::memory_order_release);
    p->state_.notify_one();")
