// The rows this process's writer committed last, for the live tail: a
// subscriber that asks for what follows its cursor right after a commit (the
// session, the window) gets them at once, without a turn of the reader's
// thread. The reader's answer stays the truth, so this answers only
//  - a run of ids with no gap (a commit that does not follow on starts it over),
//  - ids strictly inside it (what follows its newest row may be another
//    process's: the reader is asked),
//  - while no other process has committed since (the writer connection's
//    PRAGMA data_version, which only others' commits move: asked without
//    waiting, so a busy writer sends the caller to the reader),
//  - for a moment after the commit (FreshMs); this store's own changes in
//    place (marks, prune, import) clear it.
// Private to bus/sqlite.
#pragma once

#include "Ports.h"
#include "Timestamp.h"

#include <QElapsedTimer>
#include <QMutex>

#include <atomic>
#include <deque>
#include <optional>

namespace eventdesk {

class RecentRows
{
public:
    static constexpr qint64 FreshMs = 1000;
    static constexpr size_t MaxRows = 4096;

    struct Row {
        qint64 id = 0;
        QByteArray type;  // UTF-8, as written
        QByteArray payload;
        QByteArray createdAt;
    };

    RecentRows() { m_clock.start(); }

    // Kept only once something has asked for the live tail (a publish that
    // no subscriber of this process follows costs nothing here).
    bool wanted() const { return m_wanted.load(std::memory_order_relaxed); }

    // The writer, right after COMMIT: rows in id order, and the writer
    // connection's data_version then.
    void add(const std::vector<Row> &rows, qint64 othersVersion)
    {
        if (rows.empty())
            return;
        QMutexLocker lock(&m_lock);
        if (othersVersion != m_othersVersion || (!m_rows.empty() && rows.front().id != m_rows.back().row.id + 1))
            m_rows.clear();
        m_othersVersion = othersVersion;
        const qint64 now = m_clock.elapsed();
        for (const Row &r : rows)
            m_rows.push_back(Entry{r, now});
        while (m_rows.size() > MaxRows)
            m_rows.pop_front();
    }

    void clear()
    {
        QMutexLocker lock(&m_lock);
        m_rows.clear();
    }

    // The rows after afterId (at most limit), or nothing when the reader must
    // answer. othersVersion: the writer connection's data_version now, or
    // nothing when it cannot be had without waiting.
    template <typename Probe>
    std::optional<QList<StoredEvent>> since(qint64 afterId, int limit, Probe othersVersion)
    {
        m_wanted.store(true, std::memory_order_relaxed);
        std::vector<Row> hit;
        {
            QMutexLocker lock(&m_lock);
            const qint64 oldest = m_clock.elapsed() - FreshMs;
            while (!m_rows.empty() && m_rows.front().addedAt < oldest)
                m_rows.pop_front();
            if (m_rows.empty() || afterId < m_rows.front().row.id - 1 || afterId >= m_rows.back().row.id || limit <= 0)
                return std::nullopt;
            const std::optional<qint64> version = othersVersion();  // tries the writer's lock, never waits for it
            if (!version)
                return std::nullopt;
            if (*version != m_othersVersion) {
                m_rows.clear();  // another process committed: rows may be gone or marked
                return std::nullopt;
            }
            const size_t from = size_t(afterId - (m_rows.front().row.id - 1));
            for (size_t i = from; i < m_rows.size() && hit.size() < size_t(limit); ++i)
                hit.push_back(m_rows[i].row);
        }
        QList<StoredEvent> out;
        out.reserve(qsizetype(hit.size()));
        for (const Row &r : hit) {
            // As the reader makes a row (LogQueries.cpp rowFrom), decoded here, on the caller's thread.
            StoredEvent e;
            e.id = r.id;
            e.eventType = QString::fromUtf8(r.type);
            e.payload = r.payload;
            e.createdAtText = QString::fromUtf8(r.createdAt);
            e.createdAt = timestamp::parse(e.createdAtText);
            e.decode();
            out.append(std::move(e));
        }
        return out;
    }

private:
    struct Entry {
        Row row;
        qint64 addedAt = 0;
    };
    std::atomic<bool> m_wanted{false};
    QMutex m_lock;
    std::deque<Entry> m_rows;
    qint64 m_othersVersion = -1;
    QElapsedTimer m_clock;
};

} // namespace eventdesk
