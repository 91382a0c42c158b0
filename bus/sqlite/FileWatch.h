// Wakes a callback when files are written: how the reader hears another
// process's commits at once (inotify). After each wake it stops listening for
// a short quiet period, so that a burst of writes (this process's own writer,
// thousands of commits a second) costs one wake per period and the writing
// thread has no sleeper to wake; the kernel folds the burst into one event
// meanwhile. Private to bus/sqlite.
#pragma once

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QTimer>

#include <functional>

class QSocketNotifier;

namespace eventdesk {

class FileWatch final : public QObject
{
public:
    FileWatch(std::function<void()> onChange, int quietMs, QObject *parent = nullptr);
    ~FileWatch() override;

    bool isAvailable() const { return m_fd >= 0; }
    // Starts watching path; false when it does not exist or cannot be watched.
    // A file that is deleted is dropped (watch it again once it is made anew).
    bool watch(const QByteArray &path);
    bool isWatching(const QByteArray &path) const;
    qsizetype count() const { return m_paths.size(); }
    // Writes off: only deletes, moves and attribute changes are reported.
    // Every write to a file watched for writes costs the writing thread an
    // event in the kernel; while this process writes the file itself, its
    // reader polls instead and turns them off.
    void setWrites(bool on);
    bool writes() const { return m_writes; }

private:
    void readEvents();

    std::function<void()> m_onChange;
    int m_fd = -1;
    QSocketNotifier *m_notifier = nullptr;
    QHash<int, QByteArray> m_paths;  // watch descriptor → path
    QTimer m_quiet;
    bool m_writes = true;
};

} // namespace eventdesk
