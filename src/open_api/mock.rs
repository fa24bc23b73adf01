//! What the open APIs know before any scenario runs: the nine debug MOCK orders of query-order
//! (spec: koogallery-v2-kit-license.md §6.3), and — kgsim's own, for exercising the other APIs
//! against the standalone server — an on-demand instance and a package for usage pushes, four
//! License codes in each state, and one upload event.

use crate::open_api::book::{Book, InstanceEntry, LicenseEntry, OrderEntry};
use crate::protocol::UnixMillis;
use crate::protocol::open_api::license::LicenseStatus;
use crate::protocol::open_api::order::{MOCK_ORDERS, mock_order};
use crate::protocol::open_api::usage::InstanceView;

/// An on-demand instance opened 30 days ago (of `MOCKONDEMAND`).
pub(crate) const ON_DEMAND_INSTANCE: &str = "MOCKONDEMAND-instance";
/// A package instance (of `MOCKONDEMANDPKG`): usage naming it is refused with 012.
pub(crate) const PACKAGE_INSTANCE: &str = "MOCKONDEMANDPKG-instance";
/// A code the buyer has received, not yet activated.
pub(crate) const LICENSE_RECEIVED: &str = "PLMOCKRECEIVED";
/// A code the buyer has not received yet: activation is 92020004.
pub(crate) const LICENSE_NOT_RECEIVED: &str = "PLMOCKNOTRECEIVED";
/// An activated code whose period ended.
pub(crate) const LICENSE_EXPIRED: &str = "PLMOCKEXPIRED";
/// An activated, released code.
pub(crate) const LICENSE_RELEASED: &str = "PLMOCKRELEASED";
/// An upload event.
pub(crate) const UPLOAD_EVENT: &str = "87b94795-0603-4e24-8ae5-69420d60e3c8";

const DAY_MS: i64 = 86_400_000;

/// Puts the MOCK data into a book; `now` is the wall clock.
pub(crate) fn seed(book: &Book, now: UnixMillis) {
    let mut state = book.lock();
    let created = now.plus_ms(-30 * DAY_MS);
    for (id, ..) in MOCK_ORDERS {
        let expires = created.plus_months(12).to_compact_seconds();
        if let Some(info) = mock_order(id, &created.to_compact_seconds(), &expires) {
            state
                .orders
                .insert(id.to_owned(), OrderEntry { scope: 0, info });
        }
    }
    let view = InstanceView {
        on_demand: true,
        started: created,
        closed: None,
        usable: true,
        stop_package: None,
    };
    state.instances.insert(
        ON_DEMAND_INSTANCE.to_owned(),
        InstanceEntry {
            scope: 0,
            view: view.clone(),
            usage: 0.0,
            quota: None,
        },
    );
    state.instances.insert(
        PACKAGE_INSTANCE.to_owned(),
        InstanceEntry {
            scope: 0,
            view: InstanceView {
                on_demand: false,
                ..view
            },
            usage: 0.0,
            quota: None,
        },
    );
    let license = |delivered, activated: bool, status| LicenseEntry {
        scope: 0,
        order_id: "MOCKPERIODYEARNEW".to_owned(),
        delivered,
        activated: activated.then_some(created),
        status,
        expire_time: Some(created.plus_months(12).to_compact_seconds()),
    };
    for (code, entry) in [
        (LICENSE_RECEIVED, license(true, false, LicenseStatus::Alive)),
        (
            LICENSE_NOT_RECEIVED,
            license(false, false, LicenseStatus::Alive),
        ),
        (LICENSE_EXPIRED, license(true, true, LicenseStatus::Expired)),
        (
            LICENSE_RELEASED,
            license(true, true, LicenseStatus::Released),
        ),
    ] {
        state.licenses.insert(code.to_owned(), entry);
    }
    state.events.insert(UPLOAD_EVENT.to_owned(), 0);
}
