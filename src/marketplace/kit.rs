//! The joint-operation Kit as the marketplace keeps it: each enterprise (tenant) a buyer
//! binds to a purchased app — or the seller's own, when it applies for an app credential —
//! with its OAuth client, its authorised users and its departments, and the sync bodies that
//! announce them (spec: koogallery-v2-kit-license.md §3).
//!
//! The client secret is kept in plain text here: the identity centre checks it at the token
//! endpoint; only the applicationSync body carries it, RSA-OAEP encrypted.

use crate::marketplace::ids::Ids;
use crate::marketplace::lifecycle::{InstanceRef, OrderId};
use crate::marketplace::sample;
use crate::protocol::v2::kit_sync::{
    AllOrgSync, ApplicationSync, AuthSync, KitSync, KitUser, OrgInfo, SingleOrgSync, TenantSync,
};

/// A handle to an enterprise inside one marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct EnterpriseRef(pub(crate) usize);

/// What a sync does to the record (`flag`, §3.2–3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) enum KitFlag {
    /// 1.
    #[default]
    Add,
    /// 2.
    Modify,
    /// 0.
    Delete,
    /// 3, authSync only: the authorisation is withdrawn.
    Cancel,
}

impl KitFlag {
    /// The integer on the wire.
    pub(crate) fn value(self) -> i64 {
        use crate::protocol::v2::kit_sync::flag;
        match self {
            Self::Add => flag::ADD,
            Self::Modify => flag::MODIFY,
            Self::Delete => flag::DELETE,
            Self::Cancel => flag::CANCEL,
        }
    }
}

crate::slug_impls!(pub(crate) KitFlag, "Kit flag", {
    Add = "add",
    Modify = "modify",
    Delete = "delete",
    Cancel = "cancel",
});

/// An enterprise using the app.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Enterprise {
    /// The instance it is bound to; `None` for a seller's credential application.
    pub(crate) instance: Option<InstanceRef>,
    /// That instance's merchant id (empty for a credential application).
    pub(crate) instance_id: String,
    /// Its order (empty for a credential application).
    pub(crate) order_id: String,
    /// `tenantId`.
    pub(crate) tenant_id: String,
    /// `tenantCode`.
    pub(crate) tenant_code: String,
    /// Enterprise name.
    pub(crate) name: String,
    /// `appId`.
    pub(crate) app_id: String,
    /// OAuth `client_id`.
    pub(crate) client_id: String,
    /// OAuth `client_secret`, plain.
    pub(crate) client_secret: String,
    /// Users authorised to the app.
    pub(crate) users: Vec<KitUser>,
    /// Its departments; the first is the top level.
    pub(crate) orgs: Vec<OrgInfo>,
    /// Users ever created (names stay unique after deletions).
    created_users: u32,
    /// Departments ever created.
    created_orgs: u32,
    /// The stable seed its names are drawn from (see [`crate::marketplace::sample`]).
    names: u64,
}

/// The top-level department's code.
pub(crate) const ROOT_ORG: &str = "org-root";

impl Enterprise {
    /// A new enterprise for an instance (or none), with its client drawn from `ids` and its
    /// names from `names` (the marketplace's stable seed) and its `number` in the marketplace.
    pub(crate) fn new(
        ids: &mut Ids,
        instance: Option<(InstanceRef, String, &OrderId)>,
        app_id: &str,
        (names, number): (u64, u64),
    ) -> Self {
        let tenant_id = ids.customer_id();
        let tenant_code = format!("t{}", &ids.customer_id()[..10]);
        let (instance, instance_id, order_id) = match instance {
            Some((r, id, order)) => (Some(r), id, order.0.clone()),
            None => (None, String::new(), String::new()),
        };
        let name = sample::enterprise(names, number);
        Self {
            instance,
            instance_id,
            order_id,
            orgs: vec![OrgInfo {
                org_code: ROOT_ORG.into(),
                org_name: name.chars().take(128).collect(),
                // "如果是顶层部门,这个值为空": the V1 example sends "" [I:root-parent-code].
                parent_code: Some(String::new()),
            }],
            name,
            tenant_id,
            tenant_code,
            app_id: app_id.to_owned(),
            client_id: ids.customer_id(),
            client_secret: ids.secret(),
            users: Vec::new(),
            created_users: 0,
            created_orgs: 0,
            names: names ^ number.rotate_left(32),
        }
    }

    /// Creates `count` users (the first ever is an admin).
    pub(crate) fn create_users(&mut self, count: u32) -> Vec<KitUser> {
        let start = self.created_users;
        self.created_users += count;
        let users: Vec<KitUser> = (start + 1..=start + count)
            .map(|n| KitUser {
                user_name: format!("user{n:04}"),
                name: sample::person(self.names, u64::from(n)),
                org_code: ROOT_ORG.into(),
                position: Some(sample::department(self.names, u64::from(n)) + "工程师"),
                employee_code: Some(format!("E{n:05}")),
                employee_type: Some(1),
                role: if n == 1 { "admin" } else { "user" }.into(),
                enable: "true".into(),
                mobile: None,
                email: Some(format!("user{n:04}@{}.example.com", self.tenant_code)),
                work_place: Some(sample::free_text(self.names, u64::from(n))),
                entry_date: None,
            })
            .collect();
        self.users.extend(users.iter().cloned());
        users
    }

    /// A new department under the top level.
    pub(crate) fn create_org(&mut self) -> OrgInfo {
        self.created_orgs += 1;
        let org = OrgInfo {
            org_code: format!("org-{:03}", self.created_orgs),
            org_name: sample::department(self.names, u64::from(self.created_orgs)),
            parent_code: Some(ROOT_ORG.into()),
        };
        self.orgs.push(org.clone());
        org
    }

    /// tenantSync (§3.2).
    pub(crate) fn tenant_sync(&self, flag: KitFlag, domain_name: &str) -> KitSync {
        KitSync::Tenant(TenantSync {
            instance_id: self.instance_id.clone(),
            order_id: self.order_id.clone(),
            tenant_id: self.tenant_id.clone(),
            tenant_code: self.tenant_code.clone(),
            name: self.name.clone(),
            domain_name: domain_name.to_owned(),
            flag: flag.value(),
            test_flag: 0,
            time_stamp: String::new(),
        })
    }

    /// applicationSync (§3.3) with the already encrypted secret.
    pub(crate) fn application_sync(&self, flag: KitFlag, encrypted_secret: String) -> KitSync {
        KitSync::Application(ApplicationSync {
            instance_id: self.instance_id.clone(),
            tenant_id: self.tenant_id.clone(),
            app_id: self.app_id.clone(),
            client_id: self.client_id.clone(),
            client_secret: encrypted_secret,
            flag: flag.value(),
            test_flag: 0,
            time_stamp: String::new(),
        })
    }

    /// authSync (§3.4) for these users; `currentSyncTime` is filled when it is signed.
    pub(crate) fn auth_sync(&self, users: Vec<KitUser>, flag: KitFlag) -> KitSync {
        KitSync::Auth(AuthSync {
            instance_id: self.instance_id.clone(),
            tenant_id: self.tenant_id.clone(),
            app_id: self.app_id.clone(),
            user_list: users,
            current_sync_time: String::new(),
            flag: flag.value(),
            test_flag: 0,
            time_stamp: String::new(),
        })
    }

    /// singleOrgSync (§3.5).
    pub(crate) fn single_org_sync(&self, org: &OrgInfo, flag: KitFlag) -> KitSync {
        KitSync::SingleOrg(SingleOrgSync {
            instance_id: self.instance_id.clone(),
            tenant_id: self.tenant_id.clone(),
            org_code: org.org_code.clone(),
            org_name: org.org_name.clone(),
            parent_code: org.parent_code.clone(),
            flag: flag.value(),
            test_flag: 0,
            time_stamp: String::new(),
        })
    }

    /// allOrgSync (§3.6): every department.
    pub(crate) fn all_org_sync(&self) -> KitSync {
        KitSync::AllOrg(AllOrgSync {
            instance_id: self.instance_id.clone(),
            tenant_id: self.tenant_id.clone(),
            org_info_list: self.orgs.clone(),
            test_flag: 0,
            time_stamp: String::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_and_departments_stay_unique() {
        let mut ids = Ids::new(3);
        let mut enterprise = Enterprise::new(&mut ids, None, "app-1", (5, 0));
        assert!(enterprise.instance_id.is_empty() && enterprise.order_id.is_empty());
        let first = enterprise.create_users(2);
        let second = enterprise.create_users(1);
        assert_eq!(first[0].role, "admin");
        assert_eq!(second[0].user_name, "user0003");
        assert_eq!(enterprise.users.len(), 3);
        assert_eq!(enterprise.create_org().org_code, "org-001");
        let KitSync::AllOrg(all) = enterprise.all_org_sync() else {
            panic!("not allOrgSync")
        };
        assert_eq!(all.org_info_list.len(), 2);
        assert_eq!(KitFlag::Cancel.value(), 3);
        assert_eq!("delete".parse(), Ok(KitFlag::Delete));
    }
}
