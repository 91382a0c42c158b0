#include "InsightPanel.h"
#include "PlainText.h"

#include "EventLogModel.h"
#include "Projector.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QHeaderView>
#include <QListWidget>
#include <QStackedBarSeries>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QValueAxis>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

QTableWidget *table(const QStringList &headers, QWidget *parent)
{
    auto *t = new QTableWidget(0, int(headers.size()), parent);
    t->setHorizontalHeaderLabels(headers);
    t->verticalHeader()->hide();
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->horizontalHeader()->setStretchLastSection(true);
    return t;
}

void setRow(QTableWidget *t, int row, const QStringList &cells, const QColor &color = {})
{
    for (int c = 0; c < cells.size(); ++c) {
        auto *item = new QTableWidgetItem(cells.at(c));
        if (color.isValid())
            item->setForeground(color);
        t->setItem(row, c, item);
    }
}

QString duration(qint64 ms)
{
    if (ms < 0)
        return {};
    if (ms < 60000)
        return u"%1 s"_s.arg(double(ms) / 1000.0, 0, 'f', 1);
    return u"%1 min %2 s"_s.arg(ms / 60000).arg((ms % 60000) / 1000);
}

} // namespace

InsightPanel::InsightPanel(Projector &projector, EventStore &store, QWidget *parent)
    : QWidget(parent)
    , m_projector(projector)
    , m_store(store)
    , m_rates(new QChartView(this))
    , m_challenges(table({tr("World"), tr("Character"), tr("Rolls"), tr("Succeeded")}, this))
    , m_jobs(table({tr("Kind"), tr("What"), tr("Status"), tr("Progress"), tr("Took")}, this))
    , m_timelineWorld(new QComboBox(this))
    , m_timeline(new QListWidget(this))
    , m_throttle(new QTimer(this))
{
    auto *tabs = new QTabWidget(this);
    m_rates->setRenderHint(QPainter::Antialiasing);
    m_rates->setMinimumHeight(180);
    tabs->addTab(m_rates, tr("Activity"));
    tabs->addTab(m_challenges, tr("Challenges"));
    tabs->addTab(m_jobs, tr("Jobs"));
    auto *timeline = new QWidget(this);
    auto *tl = new QVBoxLayout(timeline);
    tl->setContentsMargins(0, 0, 0, 0);
    tl->addWidget(m_timelineWorld);
    tl->addWidget(m_timeline);
    tabs->addTab(timeline, tr("Story"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(tabs);

    m_throttle->setSingleShot(true);
    m_throttle->setInterval(1500);
    connect(m_throttle, &QTimer::timeout, this, &InsightPanel::refresh);
    connect(&m_projector, &Projector::projected, m_throttle, [this] {
        if (!m_throttle->isActive())
            m_throttle->start();
    });
    connect(m_timelineWorld, &QComboBox::activated, this, &InsightPanel::refreshTimeline);
    auto *slow = new QTimer(this);  // stuck jobs become stuck without any event
    connect(slow, &QTimer::timeout, this, &InsightPanel::refreshJobs);
    slow->start(15000);
    refresh();
}

void InsightPanel::refresh()
{
    refreshRates();
    refreshChallenges();
    refreshJobs();
    m_store.distinctWorlds().then(this, [this](const Result<QStringList> &r) {
        if (!r)
            return;
        const QString current = m_timelineWorld->currentText();
        m_timelineWorld->clear();
        m_timelineWorld->addItems(r.value());
        const int i = m_timelineWorld->findText(current);
        m_timelineWorld->setCurrentIndex(i >= 0 ? i : 0);
        refreshTimeline();
    });
}

void InsightPanel::refreshRates()
{
    // The last half hour; when that is quiet (an older log), the log's own last half hour.
    const QDateTime now = QDateTime::currentDateTimeUtc();
    m_projector.eventsPerMinute(now.addSecs(-30 * 60)).then(this, [this, now](const Result<QList<MinuteCount>> &r) {
        if (!r)
            return;
        if (!r->isEmpty()) {
            drawRates(r.value(), now);
            return;
        }
        m_projector.eventsPerMinute(QDateTime::fromSecsSinceEpoch(0, Qt::UTC)).then(this, [this, now](const Result<QList<MinuteCount>> &all) {
            QDateTime newest;
            for (const MinuteCount &m : all ? all.value() : QList<MinuteCount>{})
                if (!newest.isValid() || m.minute > newest)
                    newest = m.minute;
            drawRates(all ? all.value() : QList<MinuteCount>{}, newest.isValid() ? newest.addSecs(60) : now);
        });
    });
}

// Six bars of five minutes ending at `end`, stacked by category, each labelled with its time.
void InsightPanel::drawRates(const QList<MinuteCount> &minutes, const QDateTime &end)
{
    constexpr int Buckets = 6, BucketMinutes = 5;
    QDateTime start = end.addSecs(-Buckets * BucketMinutes * 60);
    start = start.addSecs(-start.time().second());
    QList<QList<qreal>> counts(CategoryCount, QList<qreal>(Buckets, 0));
    for (const MinuteCount &m : minutes) {
        const int slot = int(start.secsTo(m.minute) / (60 * BucketMinutes));
        const auto kind = catalog::kindFromName(m.eventType);
        if (slot >= 0 && slot < Buckets && kind)
            counts[int(catalog::category(*kind))][slot] += qreal(m.count);
    }
    auto *series = new QStackedBarSeries;
    qreal top = 1;
    QList<qreal> totals(Buckets, 0);
    for (int c = 0; c < CategoryCount; ++c) {
        QString name = catalog::categoryName(Category(c));
        name[0] = name[0].toUpper();
        auto *set = new QBarSet(name);
        set->setColor(EventLogModel::categoryColor(Category(c)));
        set->setBorderColor(EventLogModel::categoryColor(Category(c)));
        for (int i = 0; i < Buckets; ++i) {
            *set << counts[c][i];
            totals[i] += counts[c][i];
        }
        series->append(set);
    }
    for (qreal t : totals)
        top = std::max(top, t);
    series->setBarWidth(0.85);
    auto *chart = new QChart;
    chart->addSeries(series);
    const QDateTime localStart = start.toLocalTime(), localEnd = end.toLocalTime();
    const QString day = localEnd.date() == QDate::currentDate() ? QString() : QLocale().toString(localEnd.date(), QLocale::ShortFormat) + u' ';
    chart->setTitle(tr("Events per 5 minutes, %1%2–%3").arg(day, localStart.toString(u"HH:mm"_s), localEnd.toString(u"HH:mm"_s)));
    chart->legend()->setAlignment(Qt::AlignBottom);
    auto *x = new QBarCategoryAxis;
    QStringList labels;
    for (int i = 0; i < Buckets; ++i)
        labels << localStart.addSecs(i * BucketMinutes * 60).toString(u"HH:mm"_s);
    x->append(labels);
    QFont small = x->labelsFont();
    small.setPointSizeF(small.pointSizeF() * 0.8);
    // A narrow dock elides every "21:50" under its bar: the range is in the
    // chart's title instead, and each bar's time in its tooltip.
    x->setLabelsVisible(false);
    connect(series, &QStackedBarSeries::hovered, m_rates, [this, localStart](bool on, int index, QBarSet *set) {
        m_rates->setToolTip(on ? plain::toolTip(tr("%1: %L2 from %3").arg(set->label()).arg(set->at(index))
                                     .arg(localStart.addSecs(index * BucketMinutes * 60).toString(u"HH:mm"_s)))
                               : QString());
    });
    auto *y = new QValueAxis;
    y->setLabelsFont(small);
    y->setRange(0, top * 1.1);
    y->setLabelFormat(u"%d"_s);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    series->attachAxis(x);
    series->attachAxis(y);
    chart->setMargins(QMargins(2, 2, 2, 2));
    QChart *old = m_rates->chart();
    m_rates->setChart(chart);
    delete old;
}

void InsightPanel::refreshChallenges()
{
    m_projector.challengeStats().then(this, [this](const Result<QList<ChallengeRate>> &r) {
        if (!r)
            return;
        m_challenges->setRowCount(int(r->size()));
        for (int i = 0; i < r->size(); ++i) {
            const ChallengeRate &s = r->at(i);
            const double rate = s.attempts ? 100.0 * double(s.successes) / double(s.attempts) : 0;
            setRow(m_challenges, i, {s.worldId, s.characterId, QString::number(s.attempts),
                                     u"%1 (%2%)"_s.arg(s.successes).arg(rate, 0, 'f', 0)});
        }
    });
}

void InsightPanel::refreshJobs()
{
    m_projector.jobs(200).then(this, [this](const Result<QList<JobState>> &r) {
        if (!r)
            return;
        const QDateTime now = QDateTime::currentDateTimeUtc();
        m_jobs->setRowCount(int(r->size()));
        for (int i = 0; i < r->size(); ++i) {
            const JobState &j = r->at(i);
            const bool open = j.status == u"queued"_s || j.status == u"running"_s;
            const bool stuck = open && j.updatedAt.isValid() && j.updatedAt.msecsTo(now) > StuckAfterMs;
            const QString status = stuck ? tr("stuck (%1 idle)").arg(duration(j.updatedAt.msecsTo(now))) : j.status;
            const QColor color = stuck || j.status == u"failed"_s ? QColor(0xc0, 0x39, 0x2b) : QColor();
            setRow(m_jobs, i,
                   {j.kind == JobState::Kind::Generation ? tr("image") : tr("text"),
                    j.label + (j.error.isEmpty() ? QString() : u" — "_s + j.error), status,
                    j.progress >= 0 ? u"%1%"_s.arg(j.progress) : QString(), duration(j.durationMs)},
                   color);
        }
    });
}

void InsightPanel::refreshTimeline()
{
    const QString world = m_timelineWorld->currentText();
    if (world.isEmpty()) {
        m_timeline->clear();
        return;
    }
    m_projector.timeline(world, 200).then(this, [this](const Result<QList<TimelineEntry>> &r) {
        if (!r)
            return;
        m_timeline->clear();
        // In the log's order: the newest 200 beats, oldest first, newest at the bottom.
        QList<TimelineEntry> beats = r.value();
        std::sort(beats.begin(), beats.end(), [](const TimelineEntry &a, const TimelineEntry &b) { return a.eventId < b.eventId; });
        for (const TimelineEntry &e : std::as_const(beats)) {
            auto *item = new QListWidgetItem(u"%1  #%2  %3"_s.arg(e.createdAt.toLocalTime().toString(u"HH:mm:ss"_s)).arg(e.eventId).arg(e.summary));
            if (auto kind = catalog::kindFromName(e.eventType))
                item->setForeground(EventLogModel::categoryColor(catalog::category(*kind)).darker(130));
            m_timeline->addItem(item);
        }
        m_timeline->scrollToBottom();
    });
}

} // namespace eventdesk
