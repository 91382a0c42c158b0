// The live event log as a table model over the store, in windows: its rows
// span the whole filtered log, but it holds a bounded window of them, read
// where the view looks (by keyset beside the window, by position further
// away), and appends new rows live, coalesced into one insert per event-loop
// turn. Filters run in SQL on the store's reader thread, never through a
// proxy over the whole log.
#pragma once

#include "Ports.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QIcon>
#include <QTimer>

namespace eventdesk {

class Subscriber;

class EventLogModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EventLogModel)
public:
    enum Column { IdColumn, TimeColumn, TypeColumn, WorldColumn, SummaryColumn, ProcessedColumn, ColumnCount };
    enum Role { RawValueRole = Qt::UserRole, EventIdRole, CategoryRole };

    EventLogModel(EventStore &store, Notifier &notifier, QObject *parent = nullptr);
    ~EventLogModel() override;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Display names by id (worlds, characters): shown instead of the UUIDs in
    // the World column and the summaries; the detail pane keeps the UUIDs.
    void setDisplayNames(QHash<QString, QString> names);
    QString displayName(const QString &id) const { return m_names.value(id, id); }
    QString displaySummary(const AppEvent &event) const;
    void learnJobs(const QList<StoredEvent> &rows);
    // What jobs are for, from the Jobs projection ("portrait for character
    // <id>"): names jobs whose Queued row is nowhere near the rows held.
    void learnJobLabels(const QHash<QString, QString> &labels);
    // Replaces the filter and reloads the newest page that matches it.
    void setQuery(const EventQuery &query);
    const EventQuery &query() const { return m_query; }

    // Rows are positions in the whole filtered log (oldest first) once it has
    // been counted; until then, the newest page and what is read above it.
    // Only a window of them is held; a row outside it reads as "loading" and
    // asks for its window (ensureLoaded), read by keyset next to the window
    // and by position further away.
    bool isCounted() const { return m_total >= 0; }
    qint64 matchingCount() const { return isLoading() ? -1 : m_total; }  // -1 while counting
    qint64 firstLoaded() const { return m_first; }     // the window's first row
    int loadedCount() const { return int(m_rows.size()); }
    void ensureLoaded(int row) const;
    // While counting: the page before the oldest row held (the view reached the top).
    bool canFetchOlder() const { return !isCounted() && m_hasOlder && !m_loadingOlder; }
    void fetchOlder();
    // Loads the rows around an id (jump to id); emits jumped(row) when there.
    void jumpTo(qint64 id);
    // The window stops short of the newest rows (after a jump or a scroll back).
    bool hasNewer() const { return isCounted() && m_first + m_rows.size() < m_total; }
    // Back to the newest rows (Follow).
    void showNewest();

    const StoredEvent *eventAt(int row) const;  // nullptr outside the window
    int rowOfId(qint64 id) const;               // -1 outside the window
    // Updates a row in place after the DM toggled it.
    void setProcessed(qint64 id, bool processed);

    // How many rows the window may hold before it drops the farthest.
    void setMaxRows(int maxRows) { m_maxRows = std::max(maxRows, m_pageSize); }
    bool isLoading() const { return m_generation != m_loadedGeneration; }

    static QColor categoryColor(Category category);
    static QIcon categoryIcon(Category category);
    // A recorded message of today's engine: its AppEvent category's colour
    // when it means one, orange for a gap in the recording, else grey; drawn
    // as a ring (the engine's) where EventDesk's own events are discs.
    static QColor engineColor(const StoredEvent &row);
    static QIcon engineIcon(const StoredEvent &row);
    // Any row's line: summary with names, a recorded message's, or why it does not decode.
    QString rowSummary(const StoredEvent &row) const;

Q_SIGNALS:
    // The log went back in time (a reset Redis, a replaced file); the model has reloaded.
    void logWentBack(qint64 cursor, qint64 head);
    void loaded();                 // a new filter's first page is in
    void olderLoaded(int rows);    // rows added above the ones shown (a page, or the count's span)
    void rowsAppendedLive(int rows);
    // Every new event, whatever the filter and wherever the view is.
    void eventsArrived(const QList<StoredEvent> &events);
    void matchingCountChanged(qint64 count);
    void windowLoaded(qint64 first, int rows);  // the held window moved
    void jumped(int row);
    void errorOccurred(const QString &message);

private:
    QVariant cellText(const StoredEvent &row, int col, int role) const;
    void reload();
    void recount(qint64 upToId);
    void counted(qint64 upToCount, qint64 upToId);
    void loadWindow();
    void placeWindow(QList<StoredEvent> rows, qint64 first);
    void trimWindow(qint64 keep);
    void onLive(const QList<StoredEvent> &events);
    void flushLive();
    EventQuery pageQuery() const;
    // Whether a read's answer is still wanted (no newer filter since) and
    // good; a failed one is said through errorOccurred.
    template <typename T>
    bool usable(quint64 generation, const Result<T> &r)
    {
        if (generation != m_generation)
            return false;
        if (!r)
            Q_EMIT errorOccurred(r.error().message);
        return bool(r);
    }

    EventStore &m_store;
    EventQuery m_query;
    QList<StoredEvent> m_rows;       // ascending id, contiguous in the filtered log
    qint64 m_first = 0;              // the position of m_rows.first()
    qint64 m_total = -1;             // matching rows, once counted
    qint64 m_lastCounted = 0;        // the newest id m_total includes
    QList<StoredEvent> m_pendingLive;
    QTimer m_coalesce;
    std::unique_ptr<Subscriber> m_live;
    quint64 m_generation = 0;        // drops stale page results
    quint64 m_loadedGeneration = 0;
    bool m_hasOlder = false;
    bool m_loadingOlder = false;
    // The window a view asked for: read one at a time, the latest wish first.
    mutable qint64 m_wanted = -1;
    mutable QTimer m_windowSoon;
    bool m_loadingWindow = false;
    qint64 m_jumpTo = 0;             // an id to show once the log is counted
    int m_maxRows = 20000;
    int m_pageSize = 500;
    QHash<QString, QString> m_names;
    QHash<QString, std::pair<QString, QString>> m_jobs;  // batch or request id → (what it is for, entity id)
};

} // namespace eventdesk
