//! What freeing seats saves and when, by Atlassian's billing rules: a monthly plan bills the count at the start
//! of each cycle with no credit for removals during it, so the saving starts at the next cycle date; an annual
//! plan is billed by tier, so removals free headroom, not money, until renewal. The price is an input.

use chrono::{Datelike, Months, NaiveDate};

use super::model::Saving;
use super::policy::{Billing, SeatsPolicy};

/// The first cycle start strictly after `today`, for cycles that start on `day` of each month (the last day of
/// shorter months).
pub fn next_cycle(today: NaiveDate, day: u32) -> Option<NaiveDate> {
    let day = day.clamp(1, 31);
    let first = today.with_day(1)?;
    (0..=2).find_map(|m| {
        let month = first.checked_add_months(Months::new(m))?;
        let date = month.with_day(day.min(days_in_month(month)?))?;
        (date > today).then_some(date)
    })
}

fn days_in_month(first: NaiveDate) -> Option<u32> {
    let next = first.checked_add_months(Months::new(1))?;
    Some(next.signed_duration_since(first).num_days() as u32)
}

fn money(amount: f64, currency: &str) -> String {
    format!("{amount:.2} {currency}")
}

/// The saving of freeing `seats` seats, decided on `today`.
pub fn saving(seats: u32, policy: &SeatsPolicy, today: NaiveDate) -> Saving {
    let price = policy.price_per_seat;
    let per_month = price.map(|p| p * f64::from(seats));
    let from = match policy.billing {
        Billing::Monthly => policy.cycle_day.and_then(|d| next_cycle(today, d)),
        Billing::Annual => None,
    };
    let summary = if seats == 0 {
        "no seat to free".to_string()
    } else {
        match policy.billing {
            Billing::Monthly => {
                let what = match per_month {
                    Some(m) => format!("saves {} a month", money(m, &policy.currency)),
                    None => format!(
                        "saves {seats} × the seat price a month (give --price-per-seat or seats.price_per_seat \
                         for the amount)"
                    ),
                };
                let when = match from {
                    Some(d) => format!("from the cycle starting {d}"),
                    None => {
                        "from the start of the next monthly cycle (give --cycle-day for the date)"
                            .into()
                    }
                };
                format!(
                    "frees {seats} seat(s): {what} {when}; monthly plans bill the count at the start of each \
                     cycle and give no credit for removals during one"
                )
            }
            Billing::Annual => format!(
                "frees {seats} seat(s) of headroom in the annual tier: no money back before renewal (annual \
                 plans are billed by tier)"
            ),
        }
    };
    Saving {
        seats,
        billing: policy.billing.as_str().into(),
        price_per_seat: price,
        currency: policy.currency.clone(),
        per_month: match policy.billing {
            Billing::Monthly => per_month,
            Billing::Annual => None,
        },
        from,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_next_cycle_is_strictly_after_today_and_clamped_to_the_month() {
        assert_eq!(next_cycle(d(2026, 11, 27), 5), Some(d(2026, 12, 5)));
        assert_eq!(next_cycle(d(2026, 11, 3), 5), Some(d(2026, 11, 5)));
        assert_eq!(
            next_cycle(d(2026, 11, 5), 5),
            Some(d(2026, 12, 5)),
            "the count was taken today"
        );
        assert_eq!(next_cycle(d(2027, 1, 31), 31), Some(d(2027, 2, 28)));
        assert_eq!(next_cycle(d(2026, 12, 31), 1), Some(d(2027, 1, 1)));
    }

    #[test]
    fn monthly_saves_money_from_the_next_cycle_annual_frees_headroom() {
        let mut p = SeatsPolicy {
            price_per_seat: Some(23.6),
            cycle_day: Some(5),
            ..SeatsPolicy::default()
        };
        let s = saving(3, &p, d(2026, 11, 27));
        assert_eq!(s.per_month.map(|m| (m * 100.0).round()), Some(7080.0));
        assert_eq!(s.from, Some(d(2026, 12, 5)));
        assert!(
            s.summary
                .contains("70.80 USD a month from the cycle starting 2026-12-05"),
            "{}",
            s.summary
        );
        p.billing = Billing::Annual;
        let s = saving(3, &p, d(2026, 11, 27));
        assert_eq!((s.per_month, s.from), (None, None));
        assert!(s.summary.contains("headroom"));
        let s = saving(2, &SeatsPolicy::default(), d(2026, 11, 27));
        assert!(s.summary.contains("--price-per-seat") && s.summary.contains("--cycle-day"));
    }
}
