//! Tests of the iterative lookup (paper §2.3) and its depth bookkeeping (DESIGN.md §4).

use super::*;

use crate::kad::id::test_id as id;

fn c(first: u8, last: u8) -> Contact<u32> {
    Contact { id: id(first, last), addr: u32::from(first) * 256 + u32::from(last) }
}

fn cfg(k: usize, alpha: usize, parallelism: Parallelism) -> Config {
    Config { k, alpha, parallelism, ..Config::default() }
}

fn ids(q: &Contacts<u32>) -> Vec<NodeId> {
    q.iter().map(|c| c.id).collect()
}

/// Target zero; the own node is far away (0xFF..).
fn lookup(k: usize, alpha: usize, p: Parallelism) -> Lookup<u32> {
    Lookup::new(NodeId::default(), id(0xFF, 0xFF), &cfg(k, alpha, p))
}

#[test]
fn loose_keeps_alpha_in_flight_among_the_k_closest_paper_2_3() {
    let mut l = lookup(3, 2, Parallelism::Loose);
    for i in 1..=5 {
        l.add(c(i, 0), 1);
    }
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert_eq!(ids(&q), vec![id(1, 0), id(2, 0)], "the α closest first");
    // One answers: exactly one new query goes out, before the other returns.
    assert_eq!(l.answered(Time::ZERO, &id(1, 0), &[]), Some(1));
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert_eq!(ids(&q), vec![id(3, 0)]);
    // Nodes beyond the k closest are not queried while the k closest are busy.
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert!(q.is_empty());
}

#[test]
fn terminates_when_the_k_closest_have_all_answered_paper_2_3() {
    let mut l = lookup(2, 3, Parallelism::Loose);
    l.add(c(4, 0), 1);
    l.add(c(5, 0), 1);
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert!(!l.is_done());
    // Node 4 tells of a closer node 1: the lookup is not over until 1 answers.
    l.answered(Time::ZERO, &id(4, 0), &[c(1, 0)]);
    l.answered(Time::ZERO, &id(5, 0), &[]);
    assert!(!l.is_done());
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert_eq!(ids(&q), vec![id(1, 0)]);
    l.answered(Time::ZERO, &id(1, 0), &[]);
    assert!(l.is_done());
    let result: Vec<NodeId> = l.result().map(|c| c.id()).collect();
    assert_eq!(result, vec![id(1, 0), id(4, 0)]);
}

#[test]
fn a_timeout_frees_the_slot_and_leaves_the_shortlist_paper_2_3() {
    let mut l = lookup(2, 1, Parallelism::Loose);
    for i in 1..=3 {
        l.add(c(i, 0), 1);
    }
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert_eq!(ids(&q), vec![id(1, 0)]);
    l.failed(&id(1, 0));
    assert_eq!(l.in_flight(), 0);
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert_eq!(ids(&q), vec![id(2, 0)], "the slot is free again");
    l.answered(Time::ZERO, &id(2, 0), &[c(1, 0)]);
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert_eq!(ids(&q), vec![id(3, 0)], "a failed node is never queried again");
    l.answered(Time::ZERO, &id(3, 0), &[]);
    assert!(l.is_done(), "the failed node no longer counts among the k closest");
}

#[test]
fn strict_rounds_wait_and_widen_after_no_progress_paper_2_3() {
    let mut l = lookup(4, 2, Parallelism::Strict);
    for i in 1..=6 {
        l.add(c(i, 0), 1);
    }
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert_eq!(ids(&q), vec![id(1, 0), id(2, 0)]);
    l.answered(Time::ZERO, &id(1, 0), &[]);
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert!(q.is_empty(), "no new query while the round is out");
    l.answered(Time::ZERO, &id(2, 0), &[]);
    // The round found nothing closer: query all of the k closest not yet queried.
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert_eq!(ids(&q), vec![id(3, 0), id(4, 0)]);
}

#[test]
fn strict_round_with_progress_sends_alpha_paper_2_3() {
    let mut l = lookup(4, 2, Parallelism::Strict);
    for i in 5..=9 {
        l.add(c(i, 0), 1);
    }
    let mut q = Vec::new();
    l.next_queries(&mut q);
    l.answered(Time::ZERO, &id(5, 0), &[c(1, 0), c(2, 0), c(3, 0)]);
    l.answered(Time::ZERO, &id(6, 0), &[]);
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert_eq!(ids(&q), vec![id(1, 0), id(2, 0)], "progress: the next α only");
}

#[test]
fn discovery_depth_keeps_the_smallest_design_4() {
    let mut l = lookup(5, 3, Parallelism::Loose);
    l.add(c(3, 0), 1);
    let mut q = Vec::new();
    l.next_queries(&mut q);
    l.answered(Time::ZERO, &id(3, 0), &[c(2, 0)]);
    assert_eq!(l.candidates()[0].depth, 2);
    let mut q = Vec::new();
    l.next_queries(&mut q);
    l.answered(Time::ZERO, &id(2, 0), &[c(1, 0), c(3, 0)]);
    let depth = |l: &Lookup<u32>, x: NodeId| l.candidates().iter().find(|c| c.id() == x).unwrap().depth;
    assert_eq!(depth(&l, id(1, 0)), 3);
    assert_eq!(depth(&l, id(3, 0)), 1, "learned again from a deeper node: keeps depth 1");
    // Learned again at a smaller depth: the smaller wins.
    l.add(c(1, 0), 1);
    assert_eq!(depth(&l, id(1, 0)), 1);
}

#[test]
fn the_own_node_never_enters_its_shortlist() {
    let mut l = lookup(5, 3, Parallelism::Loose);
    l.add(c(0xFF, 0xFF), 1);
    l.add(c(2, 0), 1);
    let mut q = Vec::new();
    l.next_queries(&mut q);
    l.answered(Time::ZERO, &id(2, 0), &[c(0xFF, 0xFF)]);
    assert!(l.candidates().iter().all(|c| c.id() != id(0xFF, 0xFF)));
}

#[test]
fn a_reply_from_a_node_not_in_flight_is_ignored() {
    let mut l = lookup(5, 1, Parallelism::Loose);
    l.add(c(2, 0), 1);
    l.add(c(3, 0), 1);
    assert_eq!(l.answered(Time::ZERO, &id(3, 0), &[c(1, 0)]), None, "not queried yet");
    assert_eq!(l.candidates().len(), 2, "its contacts are not taken");
}

#[test]
fn an_empty_lookup_is_done_at_once() {
    let l = lookup(5, 1, Parallelism::Loose);
    assert!(l.is_done());
    assert_eq!(l.result().count(), 0);
}

#[test]
fn failed_candidates_do_not_crowd_out_live_ones() {
    // k = 2, shortlist cap 2k = 4: three nodes time out, the fourth names a
    // fifth, farther than all four.
    let mut l = lookup(2, 2, Parallelism::Loose);
    for i in 1..=4 {
        l.add(c(i, 0), 1);
    }
    let mut q = Vec::new();
    l.next_queries(&mut q);
    l.failed(&id(1, 0));
    l.failed(&id(2, 0));
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert_eq!(ids(&q), vec![id(3, 0), id(4, 0)]);
    l.failed(&id(3, 0));
    l.answered(Time::ZERO, &id(4, 0), &[c(5, 0)]);
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert_eq!(ids(&q), vec![id(5, 0)], "the farther live contact is kept and queried");
    l.answered(Time::ZERO, &id(5, 0), &[]);
    assert!(l.is_done());
    assert_eq!(l.result().count(), 2);
}

/// S/Kademlia §4.4: the seeds are dealt out over d paths nearest first, each
/// path keeps its own α in flight among its own candidates, a reply's new
/// contacts join the replier's path, a contact a path holds stays on it (so
/// no node is queried by two paths), and the lookup ends when every path has
/// converged; the result merges the paths.
#[test]
fn disjoint_paths_query_each_node_once_and_merge_s_kademlia_4_4() {
    let cfg = Config { k: 2, alpha: 1, disjoint_paths: 2, ..Config::default() };
    let mut l: Lookup<u32> = Lookup::new(NodeId::default(), id(0xFF, 0xFF), &cfg);
    l.seed(&[c(1, 0), c(2, 0), c(3, 0), c(4, 0)]);
    let paths: Vec<u8> = l.candidates().iter().map(|x| x.path).collect();
    assert_eq!(paths, vec![0, 1, 0, 1], "round-robin, nearest first");
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert_eq!(ids(&q), vec![id(1, 0), id(2, 0)], "α = 1 on each path");
    // Path 0's node 1 answers with a new contact (0x05) and one path 1 holds (0x04).
    assert_eq!(l.answered(Time::ZERO, &id(1, 0), &[c(5, 0), c(4, 0)]), Some(1));
    let on = |l: &Lookup<u32>, x: NodeId| l.candidates().iter().find(|c| c.id() == x).unwrap().path;
    assert_eq!(on(&l, id(5, 0)), 0, "a new contact joins the replier's path");
    assert_eq!(on(&l, id(4, 0)), 1, "a contact a path holds stays on it");
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert_eq!(ids(&q), vec![id(3, 0)], "path 0's next; path 1 still waits for node 2");
    l.failed(&id(2, 0));
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert_eq!(ids(&q), vec![id(4, 0)], "path 1 goes on with its own");
    assert!(!l.is_done());
    l.answered(Time::ZERO, &id(3, 0), &[]);
    assert!(!l.is_done(), "path 1 waits for node 4");
    l.answered(Time::ZERO, &id(4, 0), &[]);
    assert!(l.is_done(), "both paths converged: node 5 is beyond path 0's k closest");
    let result: Vec<NodeId> = l.result().map(Candidate::id).collect();
    assert_eq!(result, vec![id(1, 0), id(3, 0)], "the k closest answered over both paths");
}

/// One path is the paper's lookup: everything on path 0.
#[test]
fn a_single_path_is_the_papers_lookup() {
    let mut l = lookup(3, 2, Parallelism::Loose);
    l.seed(&[c(1, 0), c(2, 0), c(3, 0)]);
    assert!(l.candidates().iter().all(|x| x.path == 0));
}

/// The churn study's `closest_found` (README "Metric definitions"): the time
/// noted is that of the answer from a node nearer than every earlier
/// responder; a farther node answering later changes nothing; the depth is
/// the nearest responder's, as DESIGN.md §4 keeps it (the smaller).
#[test]
fn the_nearest_answer_is_noted_when_a_nearer_node_answers_and_only_then() {
    let at = |ms: u64| Time(ms * 1000);
    let mut l = lookup(3, 3, Parallelism::Loose);
    assert_eq!(l.nearest_answer(), None, "nobody has answered");
    l.seed(&[c(4, 0), c(5, 0), c(6, 0)]);
    let mut q = Vec::new();
    l.next_queries(&mut q);
    // Node 5 answers first at 100 ms, naming node 2 (depth 2).
    l.answered(at(100), &id(5, 0), &[c(2, 0)]);
    assert_eq!(l.nearest_answer(), Some(NearestAnswer { at: at(100), depth: 1 }));
    // Node 6, farther than node 5, answers later: still node 5's answer.
    l.answered(at(120), &id(6, 0), &[]);
    assert_eq!(l.nearest_answer(), Some(NearestAnswer { at: at(100), depth: 1 }));
    // Node 4, nearer than 5, answers at 150 ms.
    l.answered(at(150), &id(4, 0), &[]);
    assert_eq!(l.nearest_answer(), Some(NearestAnswer { at: at(150), depth: 1 }));
    // Node 2, learned from node 5 at depth 2, answers at 230 ms.
    let mut q = Vec::new();
    l.next_queries(&mut q);
    assert_eq!(ids(&q), vec![id(2, 0)]);
    l.answered(at(230), &id(2, 0), &[c(1, 0)]);
    assert_eq!(l.nearest_answer(), Some(NearestAnswer { at: at(230), depth: 2 }));
    // Node 1 (depth 3) times out: the nearest answer stays node 2's.
    let mut q = Vec::new();
    l.next_queries(&mut q);
    l.failed(&id(1, 0));
    assert_eq!(l.nearest_answer(), Some(NearestAnswer { at: at(230), depth: 2 }));
    // Node 2 learned again as an own contact (depth 1): the smaller depth is reported.
    l.add(c(2, 0), 1);
    assert_eq!(l.nearest_answer(), Some(NearestAnswer { at: at(230), depth: 1 }));
    assert_eq!(l.result().next().map(Candidate::id), Some(id(2, 0)));
}

/// A late answer from a node nearer than all others still counts, and the
/// first answer of a lookup is always the nearest so far.
#[test]
fn the_nearest_answer_follows_the_nearest_responder_not_the_order_of_answers() {
    let at = |ms: u64| Time(ms * 1000);
    let mut l = lookup(4, 4, Parallelism::Loose);
    l.seed(&[c(1, 0), c(2, 0), c(3, 0), c(4, 0)]);
    let mut q = Vec::new();
    l.next_queries(&mut q);
    l.answered(at(40), &id(4, 0), &[]);
    assert_eq!(l.nearest_answer().map(|n| n.at), Some(at(40)));
    l.answered(at(50), &id(2, 0), &[]);
    l.answered(at(60), &id(3, 0), &[]);
    assert_eq!(l.nearest_answer().map(|n| n.at), Some(at(50)));
    l.answered(at(900), &id(1, 0), &[]);
    assert_eq!(l.nearest_answer().map(|n| n.at), Some(at(900)));
    assert!(l.is_done());
}
