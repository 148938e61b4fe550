// SPDX-License-Identifier: Apache-2.0
// ferrite io: zero-copy files, wire formats and byte buffers. Bytes are looked at where they
// already are (a mapping, a read buffer) through typed views, and copied only where a copy
// cannot be avoided (a frame split across two reads), once; the metrics io.bytes_viewed and
// io.bytes_copied say how well that went.
//
// What is here
//   mapped_file.hpp   mmap a file read-only or read-write; advise, flush, grow; read_checked
//                     for files another process may truncate (SIGBUS otherwise)
//   endian.hpp        be<T> / le<T>: byte-order fields of alignment 1, so headers are structs
//   records.hpp       records<T>: a random-access range over pod records at any alignment
//   wire.hpp          wire::parse<H>: header + payload views, length fields, parse errors
//   frame_reader.hpp  wire::frame_reader: length-prefixed frames out of a stream of reads
//   bytes.hpp         bytes / bytes_mut: refcounted, sliceable buffers (Rust's bytes crate)
//   buffer_pool.hpp   fixed-size read buffers, recycled when their last slice goes
//   writev.hpp        iovec_list and writev_all: scatter-gather writes, completely
//   append_log.hpp    framed, checksummed append-only log with crash recovery
//   error.hpp         io::error: ferrite::error plus the path
//
// 1. A file of fixed-size records, viewed in place:
// ```cpp
// struct trade { std::uint64_t id; std::uint32_t price, qty; };      // pod
// auto file = io::mapped_file::open("trades.bin");                  // std::expected
// auto trades = io::records<trade>::from(*file);                    // size checked, any alignment
// auto big = std::ranges::count_if(*trades, [](trade t) { return t.qty > 100; });
// ```
//
// 2. A protocol header declared once and parsed in place:
// ```cpp
// struct msg {
//   io::be<std::uint32_t> len;   io::be<std::uint16_t> type;   io::be<std::uint16_t> flags;
//   using wire_length = io::wire::length_field<&msg::len>;
// };
// io::wire::basic_frame_reader<msg> frames({.max_frame = 1 << 20});
// frames.feed(just_read);                                           // any split of the stream
// while (auto f = frames.next()) {                                  // error: hostile length, ...
//   if (!*f) break;                                                 // need more bytes
//   handle((*f)->header().type, (*f)->payload());                   // views, no copy
// }
// ```
//
// 3. Buffers that are sliced, kept and written without copies:
// ```cpp
// io::buffer_pool pool(16 * 1024);
// io::bytes_mut in = pool.acquire();
// in.commit(::read(fd, in.spare_capacity().data(), in.spare_capacity().size()));
// io::bytes request = std::move(in).freeze();
// io::bytes key = request.slice(4, 9);                              // shares the block
// io::iovec_list reply;
// reply.push("+OK\r\n"sv);
// reply.push(key);
// io::writev_all(sock, reply.span());                               // partial writes, EINTR
// ```
//
// 4. A durable log:
// ```cpp
// auto log = io::append_log::open("data.aof");
// log->replay([&](std::span<const std::byte> rec) { apply(rec); }); // cuts a torn tail
// log->append(record);
// log->sync();                                                      // fdatasync
// ```
//
// When not to use it: mapped_file's bytes() on a file other processes may shrink (use
// read_checked, or read()); records<T> for types with invariants beyond "any bytes" (bool,
// pointers, enums with holes: validate after the read); bytes_mut between threads without
// handing it over (it has one owner; freeze it to share); append_log as a database (it is a
// log: no index, no compaction). The reference, the diagrams (a frame's bytes, who owns which
// buffer when) and the measurements are in docs/io.md; a complete program is examples/io.cpp.
#pragma once

#include "ferrite/io/append_log.hpp"
#include "ferrite/io/buffer_pool.hpp"
#include "ferrite/io/bytes.hpp"
#include "ferrite/io/endian.hpp"
#include "ferrite/io/error.hpp"
#include "ferrite/io/frame_reader.hpp"
#include "ferrite/io/mapped_file.hpp"
#include "ferrite/io/records.hpp"
#include "ferrite/io/wire.hpp"
#include "ferrite/io/writev.hpp"
