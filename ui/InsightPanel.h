// Insight from the projections: events per minute by category (a chart),
// challenge success by world and character, generation and suggestion jobs
// with the stuck ones marked, and the story timeline of a world.
#pragma once

#include <QDateTime>
#include <QList>
#include <QWidget>

class QChartView;
class QComboBox;
class QListWidget;
class QTableWidget;
class QTimer;

namespace eventdesk {

class Projector;
struct MinuteCount;
class EventStore;

class InsightPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(InsightPanel)
public:
    InsightPanel(Projector &projector, EventStore &store, QWidget *parent = nullptr);
    void refresh();

    static constexpr qint64 StuckAfterMs = 2 * 60 * 1000;

private:
    void refreshRates();
    void drawRates(const QList<MinuteCount> &minutes, const QDateTime &end);
    void refreshChallenges();
    void refreshJobs();
    void refreshTimeline();

    Projector &m_projector;
    EventStore &m_store;
    QChartView *m_rates;
    QTableWidget *m_challenges;
    QTableWidget *m_jobs;
    QComboBox *m_timelineWorld;
    QListWidget *m_timeline;
    QTimer *m_throttle;
};

} // namespace eventdesk
