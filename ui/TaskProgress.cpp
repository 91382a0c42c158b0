#include "TaskProgress.h"
#include "PlainText.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QToolButton>

namespace eventdesk {

TaskProgress::TaskProgress(QWidget *parent)
    : QWidget(parent)
    , m_label(plain::label(new QLabel(this)))
    , m_bar(new QProgressBar(this))
    , m_cancel(new QToolButton(this))
{
    m_bar->setMaximumWidth(160);
    m_bar->setTextVisible(true);
    m_cancel->setText(tr("Cancel"));
    m_cancel->setToolTip(tr("Stop, and leave nothing half-done"));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_label);
    layout->addWidget(m_bar);
    layout->addWidget(m_cancel);
    connect(m_cancel, &QToolButton::clicked, this, [this] {
        if (!m_running || m_cancelled)
            return;
        m_cancelled = true;
        m_cancel->setEnabled(false);
        m_label->setText(tr("%1: cancelling…").arg(m_what));
        Q_EMIT cancelRequested();
    });
    hide();
}

bool TaskProgress::begin(const QString &what, qint64 total)
{
    if (m_running)
        return false;
    m_running = true;
    m_cancelled = false;
    m_what = what;
    m_total = total;
    m_label->setText(what);
    m_bar->setRange(0, total > 0 ? 1000 : 0);  // 0..0: busy, the total is not known
    m_bar->setValue(0);
    m_cancel->setEnabled(true);
    m_clock.start();
    show();
    return true;
}

void TaskProgress::update(qint64 done)
{
    if (!m_running)
        return;
    if (m_total > 0)
        m_bar->setValue(int(std::min<qint64>(1000, done * 1000 / m_total)));
    const double seconds = double(m_clock.elapsed()) / 1000.0;
    QString text = tr("%1: %L2").arg(m_what).arg(done);
    if (m_total > 0)
        text += tr(" of %L1").arg(m_total);
    if (seconds > 1 && done > 0 && m_total > done)
        text += tr(", about %1 s left").arg(qint64((double(m_total - done) / (double(done) / seconds)) + 0.5));
    if (!m_cancelled)
        m_label->setText(text);
}

void TaskProgress::finish()
{
    m_running = false;
    hide();
}

} // namespace eventdesk
