#include "PruneDialog.h"
#include "PlainText.h"

#include "Timestamp.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QMessageBox>
#include <QFutureWatcher>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTimer>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace eventdesk {

PruneDialog::PruneDialog(Retention &retention, QWidget *parent)
    : QDialog(parent)
    , m_retention(retention)
    , m_days(new QSpinBox(this))
    , m_force(new QCheckBox(tr("Also events not processed yet"), this))
    , m_preview(plain::label(new QLabel(this)))
    , m_prune(new QPushButton(tr("Archive and delete"), this))
    , m_cancel(nullptr)
    , m_progress(new QProgressBar(this))
{
    setWindowTitle(tr("Prune old events"));
    m_days->setRange(0, 3650);
    m_days->setValue(30);
    m_days->setSuffix(tr(" days"));
    m_preview->setWordWrap(true);
    m_preview->setMinimumHeight(m_preview->fontMetrics().height() * 3);
    auto *form = new QFormLayout;
    form->addRow(tr("Older than"), m_days);
    form->addRow(QString(), m_force);
    auto *note = new QLabel(tr("Events go to a compressed archive next to the database first (gzip JSON lines, "
                               "readable by eventdesk import); only then are they deleted."), this);
    note->setWordWrap(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    m_cancel = buttons->button(QDialogButtonBox::Cancel);
    buttons->addButton(m_prune, QDialogButtonBox::DestructiveRole);
    m_progress->hide();
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(note);
    layout->addWidget(m_preview);
    layout->addWidget(m_progress);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_days, &QSpinBox::valueChanged, this, &PruneDialog::refreshPreview);
    connect(m_force, &QCheckBox::toggled, this, &PruneDialog::refreshPreview);
    connect(m_prune, &QPushButton::clicked, this, [this] {
        if (plain::ask(this, windowTitle(), tr("Archive and delete %n event(s)?", nullptr, int(m_wouldGo))))
            pruneNow();
    });
    refreshPreview();
}

PruneOptions PruneDialog::options(bool dryRun) const
{
    PruneOptions o;
    o.cutoff = QDateTime::currentDateTimeUtc().addDays(-m_days->value());
    o.includeUnprocessed = m_force->isChecked();
    o.dryRun = dryRun;
    o.actor = u"dm"_s;
    return o;
}

QFuture<Result<PruneReport>> PruneDialog::run(const PruneOptions &o)
{
    return m_retention.prune(o);
}

void PruneDialog::refreshPreview()
{
    m_wouldGo = -1;
    m_prune->setEnabled(false);
    m_preview->setText(tr("Counting…"));
    const int generation = ++m_generation;
    run(options(true)).then(this, [this, generation](const Result<PruneReport> &r) {
        if (generation != m_generation)
            return;  // the DM changed the cutoff meanwhile
        if (!r) {
            m_preview->setText(r.error().message);
            return;
        }
        m_wouldGo = r->matched - r->keptUnprocessed;
        m_preview->setText(tr("%n event(s) would be archived and deleted", nullptr, int(m_wouldGo))
                           + (r->keptUnprocessed ? tr("; %n older one(s) not processed yet stay", nullptr, int(r->keptUnprocessed))
                                                 : QString())
                           + u'.'
                           + (r->ageAlone ? tr(" No event here was ever marked processed, so age alone decides.") : QString()));
        m_prune->setEnabled(m_wouldGo > 0);
    });
}

void PruneDialog::pruneNow()
{
    m_prune->setEnabled(false);
    m_days->setEnabled(false);
    m_force->setEnabled(false);
    m_preview->setText(tr("Writing the archive…"));
    m_progress->setRange(0, 0);
    m_progress->show();
    m_running = true;
    PruneOptions o = options(false);
    m_cancelFlag = std::make_shared<std::atomic<bool>>(false);
    o.cancel = m_cancelFlag;
    // Started from the event loop: a Cancel pressed at once is seen before the first page.
    QTimer::singleShot(0, this, [this, o] { start(o); });
}

void PruneDialog::start(const PruneOptions &o)
{
    QFuture<Result<PruneReport>> running = run(o);
    auto *watcher = new QFutureWatcher<Result<PruneReport>>(this);
    connect(watcher, &QFutureWatcherBase::progressRangeChanged, m_progress, &QProgressBar::setRange);
    connect(watcher, &QFutureWatcherBase::progressValueChanged, this, [this, watcher](int value) {
        m_progress->setValue(value);
        // Past the half: the archive is whole and the deletion runs to its end.
        if (value > 0 && value >= watcher->progressMaximum() / 2 && m_cancel->isEnabled() && !m_cancelFlag->load()) {
            m_cancel->setEnabled(false);
            m_cancel->setToolTip(tr("The archive is written; the archived events are being deleted"));
            m_preview->setText(tr("Deleting the archived events…"));
        }
    });
    watcher->setFuture(running);
    running.then(this, [this, watcher](const Result<PruneReport> &r) {
        watcher->deleteLater();
        m_running = false;
        m_progress->hide();
        m_cancel->setEnabled(true);
        m_cancel->setText(tr("Close"));
        if (!r) {
            m_preview->setText(r.error().message);
            return;
        }
        if (r->cancelled) {
            m_preview->setText(tr("Cancelled: nothing was deleted and no archive was kept."));
            return;
        }
        QString said = tr("Deleted %n event(s); archive: %1", nullptr, int(r->deleted)).arg(r->archivePath);
        if (!r->resumedArchives.isEmpty())
            said += u"\n"_s + tr("First finished an interrupted prune: deleted %n event(s) that %1 holds.", nullptr,
                                 int(r->resumedDeleted)).arg(r->resumedArchives.join(u", "_s));
        m_preview->setText(said);
        Q_EMIT pruned(r.value());
    });
}

void PruneDialog::reject()
{
    if (!m_running) {
        QDialog::reject();
        return;
    }
    if (m_cancel->isEnabled() && !m_cancelFlag->load()) {
        m_cancelFlag->store(true);
        m_cancel->setEnabled(false);
        m_preview->setText(tr("Cancelling…"));
    }
}

} // namespace eventdesk
