// The live event log as a table model over the store, in windows: it holds at
// most a bounded number of rows (the newest that match the filter), reads
// older pages on demand when the view reaches the top, and appends new rows
// live, coalesced into one insert per event-loop turn. Filters run in SQL on
// the store's reader thread, never through a proxy over the whole log.
#pragma once

#include "Ports.h"

#include <QAbstractTableModel>
#include <QHash>
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

    // Replaces the filter and reloads the newest page that matches it.
    // Display names by id (worlds, characters): shown instead of the UUIDs in
    // the World column and the summaries; the detail pane keeps the UUIDs.
    void setDisplayNames(QHash<QString, QString> names);
    QString displayName(const QString &id) const { return m_names.value(id, id); }
    QString displaySummary(const AppEvent &event) const;
    void learnJobs(const QList<StoredEvent> &rows);
    void setQuery(const EventQuery &query);
    const EventQuery &query() const { return m_query; }
    // Loads the page before the oldest row held (the view reached the top).
    bool canFetchOlder() const { return m_hasOlder && !m_loadingOlder; }
    void fetchOlder();
    // Loads the rows around an id (jump to id); emits jumped(row) when there.
    void jumpTo(qint64 id);
    // After a jump (or a long read back in history) the rows held may stop
    // short of the newest: live rows then wait in the store, and the next
    // page loads when the view reaches the bottom.
    bool hasNewer() const { return m_hasNewer; }
    bool canFetchNewer() const { return m_hasNewer && !m_loadingNewer; }
    void fetchNewer();
    // Back to the newest page (Follow).
    void showNewest();

    const StoredEvent *eventAt(int row) const;
    int rowOfId(qint64 id) const;
    // Updates a row in place after the DM toggled it.
    void setProcessed(qint64 id, bool processed);

    // How many rows the model may hold before it drops the oldest.
    void setMaxRows(int maxRows) { m_maxRows = maxRows; }
    qint64 matchingCount() const { return m_matching; }  // -1 while counting
    bool isLoading() const { return m_generation != m_loadedGeneration; }

    static QColor categoryColor(Category category);

Q_SIGNALS:
    // The log went back in time (a reset Redis, a replaced file); the model has reloaded.
    void logWentBack(qint64 cursor, qint64 head);
    void loaded();                 // a new filter's first page is in
    void olderLoaded(int rows);    // rows prepended at the top
    void rowsAppendedLive(int rows);
    void matchingCountChanged(qint64 count);
    void jumped(int row);
    void errorOccurred(const QString &message);

private:
    void reload(qint64 aroundId = 0);
    void onLive(const QList<StoredEvent> &events);
    void flushLive();
    void recount();

    EventStore &m_store;
    EventQuery m_query;
    QList<StoredEvent> m_rows;       // ascending id
    QList<StoredEvent> m_pendingLive;
    QTimer m_coalesce;
    std::unique_ptr<Subscriber> m_live;
    quint64 m_generation = 0;        // drops stale page results
    quint64 m_loadedGeneration = 0;
    bool m_hasOlder = false;
    bool m_loadingOlder = false;
    bool m_hasNewer = false;
    bool m_loadingNewer = false;
    int m_maxRows = 20000;
    int m_pageSize = 500;
    qint64 m_matching = -1;
    QHash<QString, QString> m_names;
    QHash<QString, std::pair<QString, QString>> m_jobs;  // batch or request id → (what it is for, entity id)
};

} // namespace eventdesk
