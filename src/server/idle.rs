//! [`IdleList`]: the keep-alive connections waiting between requests, per
//! server, longest-idle first, so that a server at its connection limit
//! closes one of them to admit a new client (as Apache's event MPM does)
//! instead of leaving the newcomer in the listen backlog.
//!
//! An intrusive doubly linked list over the loop's connection keys (slab
//! indices): each key's links live at `links[key]`, so marking a
//! connection idle or busy and finding the longest-idle one are O(1), and
//! nothing is allocated beyond one `Link` per slab slot ever used.

/// No key: the end of a list, or (as `server`) a key in no list.
const NIL: usize = usize::MAX;

#[derive(Clone, Copy)]
struct Link {
    prev: usize,
    next: usize,
    /// The server whose list holds the key; `NIL`: the connection is busy.
    server: usize,
    /// The connection's request count when it went idle, which tells one
    /// idle spell from the next.
    stamp: usize,
}

const UNLINKED: Link = Link {
    prev: NIL,
    next: NIL,
    server: NIL,
    stamp: 0,
};

/// The two ends of one server's list; `head` went idle first.
#[derive(Clone, Copy)]
struct Ends {
    head: usize,
    tail: usize,
}

const EMPTY: Ends = Ends {
    head: NIL,
    tail: NIL,
};

/// Idle keep-alive connections of every server of a loop, in the order
/// they went idle.
#[derive(Default)]
pub(super) struct IdleList {
    links: Vec<Link>,
    ends: Vec<Ends>,
}

impl IdleList {
    /// Records the state of connection `key` of `server` after it was
    /// driven: `idle` is `Some(request count)` while it waits between
    /// requests, `None` while busy. A connection idle again after another
    /// request goes to the back. Returns whether it has just gone idle.
    pub fn update(&mut self, server: usize, key: usize, idle: Option<usize>) -> bool {
        let current = self
            .links
            .get(key)
            .filter(|link| link.server != NIL)
            .map(|link| link.stamp);
        if current == idle {
            return false;
        }
        self.remove(key);
        match idle {
            Some(stamp) => {
                self.push_back(server, key, stamp);
                true
            }
            None => false,
        }
    }

    /// The connection of `server` that has been idle the longest.
    pub fn oldest(&self, server: usize) -> Option<usize> {
        self.ends
            .get(server)
            .map(|ends| ends.head)
            .filter(|&head| head != NIL)
    }

    /// Takes `key` out of its list, if it is in one (it closed, or is
    /// busy again).
    pub fn remove(&mut self, key: usize) {
        let Some(&link) = self.links.get(key) else {
            return;
        };
        if link.server == NIL {
            return;
        }
        match link.prev {
            NIL => self.ends[link.server].head = link.next,
            prev => self.links[prev].next = link.next,
        }
        match link.next {
            NIL => self.ends[link.server].tail = link.prev,
            next => self.links[next].prev = link.prev,
        }
        self.links[key] = UNLINKED;
    }

    fn push_back(&mut self, server: usize, key: usize, stamp: usize) {
        if self.links.len() <= key {
            self.links.resize(key + 1, UNLINKED);
        }
        if self.ends.len() <= server {
            self.ends.resize(server + 1, EMPTY);
        }
        let tail = self.ends[server].tail;
        self.links[key] = Link {
            prev: tail,
            next: NIL,
            server,
            stamp,
        };
        match tail {
            NIL => self.ends[server].head = key,
            tail => self.links[tail].next = key,
        }
        self.ends[server].tail = key;
    }
}

#[cfg(test)]
mod tests {
    use super::IdleList;

    /// The keys of `server`'s list from oldest to newest, walking the
    /// links both ways to check they agree.
    fn order(list: &IdleList, server: usize) -> Vec<usize> {
        let mut forward = Vec::new();
        let mut at = list.oldest(server);
        while let Some(key) = at {
            assert!(forward.len() <= list.links.len(), "the list loops");
            forward.push(key);
            at = Some(list.links[key].next).filter(|&k| k != super::NIL);
        }
        let mut backward = Vec::new();
        let mut at = list.ends.get(server).map_or(super::NIL, |e| e.tail);
        while at != super::NIL {
            backward.push(at);
            at = list.links[at].prev;
        }
        backward.reverse();
        assert_eq!(forward, backward);
        forward
    }

    #[test]
    fn keeps_keys_in_the_order_they_went_idle() {
        let mut list = IdleList::default();
        assert_eq!(list.oldest(0), None);
        for key in [5, 1, 9, 3] {
            assert!(list.update(0, key, Some(1)));
        }
        assert_eq!(order(&list, 0), [5, 1, 9, 3]);
        assert_eq!(list.oldest(0), Some(5));
    }

    #[test]
    fn unlinks_from_the_front_the_middle_and_the_back() {
        let mut list = IdleList::default();
        for key in 0..5 {
            list.update(0, key, Some(1));
        }
        list.remove(2);
        assert_eq!(order(&list, 0), [0, 1, 3, 4]);
        list.remove(0);
        assert_eq!(order(&list, 0), [1, 3, 4]);
        list.remove(4);
        assert_eq!(order(&list, 0), [1, 3]);
        list.remove(4);
        list.remove(77);
        assert_eq!(order(&list, 0), [1, 3]);
        list.remove(1);
        list.remove(3);
        assert!(order(&list, 0).is_empty());
        assert_eq!(list.oldest(0), None);
        list.update(0, 3, Some(1));
        assert_eq!(order(&list, 0), [3]);
    }

    #[test]
    fn a_busy_connection_leaves_and_an_idle_one_again_goes_to_the_back() {
        let mut list = IdleList::default();
        for key in 0..3 {
            list.update(0, key, Some(1));
        }
        // Driven again while still in the same idle spell: no change.
        assert!(!list.update(0, 0, Some(1)));
        assert_eq!(order(&list, 0), [0, 1, 2]);
        // Busy with its second request, then idle after it.
        assert!(!list.update(0, 0, None));
        assert_eq!(order(&list, 0), [1, 2]);
        assert!(list.update(0, 0, Some(2)));
        assert_eq!(order(&list, 0), [1, 2, 0]);
        // Served another request within one drive: a new idle spell.
        assert!(list.update(0, 1, Some(2)));
        assert_eq!(order(&list, 0), [2, 0, 1]);
    }

    #[test]
    fn keeps_one_list_per_server() {
        let mut list = IdleList::default();
        list.update(1, 4, Some(1));
        list.update(0, 2, Some(1));
        list.update(1, 0, Some(1));
        assert_eq!(order(&list, 0), [2]);
        assert_eq!(order(&list, 1), [4, 0]);
        assert_eq!(list.oldest(2), None);
        list.remove(4);
        assert_eq!(list.oldest(1), Some(0));
        assert_eq!(list.oldest(0), Some(2));
    }
}
