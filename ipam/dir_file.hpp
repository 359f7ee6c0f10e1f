// Small-file primitives relative to a directory fd that never follow a symlink in the last path
// component and never leave a partially written file under the final name.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace tether::ipam {

/// Opens (creating with `mode` when missing) the directory `name` under `parent` (AT_FDCWD for a
/// path). A symlink in place of the directory is refused (code 7 "... is a symlink").
Expected<UniqueFd> openDirectory(int parent, const std::string& name, unsigned mode);

/// Reads a regular file of at most `limit` bytes. nullopt when it does not exist, is not a
/// regular file or is a symlink (those are never ours).
Expected<std::optional<std::string>> readSmallFile(int dir, const std::string& name,
                                                   size_t limit = 4096);

/// How writeFileAt places the file under its name.
enum class Place {
    Exclusive, ///< only if the name is free (link(2) semantics); returns false when taken
    Replace,   ///< atomically replaces whatever is there (rename(2))
    /// rewrites an existing regular file in place (truncate, write), like the reference's
    /// last_reserved_ip; otherwise (missing, a symlink, not a regular file, more than one
    /// link) behaves as Replace. Not atomic: for hints whose torn content is harmless. It
    /// allocates no inode, which matters on ext4: a new inode is searched for past every inode
    /// freed in the last minutes, so rename churn makes every later file creation slower.
    Overwrite,
};

struct WriteOptions {
    Place place = Place::Replace;
    unsigned mode = 0600;
    bool sync = false; ///< fdatasync the content before it becomes visible
};

/// Writes `content` to a nameless temporary file in `dir`, then makes it appear as `name` in one
/// step, so readers see either nothing or the whole content (Place::Overwrite: see there). Returns
/// false only for Place::Exclusive when `name` exists (whatever it is, symlinks included).
Expected<bool> writeFileAt(int dir, const std::string& name, std::string_view content,
                           const WriteOptions& opts);

/// A nameless temporary file in `dir` holding `content` (fdatasync'ed when `sync`), to be given
/// a name later by linkPrepared: lets a caller pay the write and the sync before it takes a lock.
/// An invalid fd (not an error) when the filesystem has no O_TMPFILE; then use writeFileAt.
Expected<UniqueFd> prepareFile(int dir, std::string_view content, unsigned mode, bool sync);

/// Gives the prepared file `fd` (prepareFile, same `dir`) the name `name` if it is free (link(2)
/// semantics); false when `name` exists. Link a prepared file at most once.
Expected<bool> linkPrepared(int fd, int dir, const std::string& name);

/// Removes `name` (never following a symlink). Returns whether it existed.
Expected<bool> unlinkAt(int dir, const std::string& name);

/// Whether `name` exists (any type, symlinks not followed).
Expected<bool> existsAt(int dir, const std::string& name);

/// Names in `dir` (without "." and ".."), with whether each is a directory.
struct DirEntry {
    std::string name;
    bool isDir = false;
};
Expected<std::vector<DirEntry>> listDirectory(int dir);

} // namespace tether::ipam
