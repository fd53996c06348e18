/*
 * mib.h — object identifiers of the Meter MIB (RFC 2720, FLOW-METER-MIB,
 * mib-2 40) and of ntm's extensions (NTM-MIB), shared by the agent, the
 * reader and the tests.  mibs/ holds the module texts; doc/mib.md the
 * reasoning.
 *
 * OIDs are given as comma-separated sub-identifier lists so they can
 * initialise any integer array type (net-snmp's `oid` included):
 *     static const oid x[] = { MIB_FLOW_METER, MIB_FLOW_CONTROL };
 */
#ifndef NTM_MIB_H
#define NTM_MIB_H

/* 1.3.6.1.2.1.40 flowMIB */
#define MIB_FLOW_METER          1, 3, 6, 1, 2, 1, 40
#define MIB_FLOW_METER_LEN      7

/* Relative to MIB_FLOW_METER. */
#define MIB_FLOW_CONTROL        1        /* .1 */
#define MIB_FLOW_DATA           2        /* .2 */
#define MIB_FLOW_RULES          3        /* .3 */

/* flowControl.N: tables (entry is always .1 below the table) and scalars. */
enum mib_control {
	MIB_RULESET_INFO_TABLE  = 1,   /* flowRuleSetInfoTable, INDEX {set} */
	MIB_INTERFACE_TABLE     = 2,   /* flowInterfaceTable, INDEX {ifIndex} */
	MIB_READER_INFO_TABLE   = 3,   /* flowReaderInfoTable, INDEX {reader} */
	MIB_MANAGER_INFO_TABLE  = 4,   /* flowManagerInfoTable, INDEX {manager} */
	MIB_FLOOD_MARK          = 5,   /* scalars: instance .0 */
	MIB_INACTIVITY_TIMEOUT  = 6,
	MIB_ACTIVE_FLOWS        = 7,
	MIB_MAX_FLOWS           = 8,
	MIB_FLOOD_MODE          = 9
};

/* flowRuleSetInfoEntry columns. */
enum mib_ruleinfo_col {
	MIB_RULEINFO_INDEX = 1, MIB_RULEINFO_SIZE, MIB_RULEINFO_OWNER,
	MIB_RULEINFO_TIMESTAMP, MIB_RULEINFO_STATUS, MIB_RULEINFO_NAME,
	MIB_RULEINFO_RULES_READY, MIB_RULEINFO_FLOW_RECORDS
};

/* flowInterfaceEntry columns. */
enum mib_interface_col {
	MIB_INTERFACE_SAMPLE_RATE = 1, MIB_INTERFACE_LOST_PACKETS
};

/* flowReaderInfoEntry columns. */
enum mib_reader_col {
	MIB_READER_INDEX = 1, MIB_READER_TIMEOUT, MIB_READER_OWNER,
	MIB_READER_LAST_TIME, MIB_READER_PREVIOUS_TIME, MIB_READER_STATUS,
	MIB_READER_RULESET
};

/* flowManagerInfoEntry columns. */
enum mib_manager_col {
	MIB_MANAGER_INDEX = 1, MIB_MANAGER_CURRENT_RULESET,
	MIB_MANAGER_STANDBY_RULESET, MIB_MANAGER_HIGH_WATER_MARK,
	MIB_MANAGER_COUNTER_WRAP, MIB_MANAGER_OWNER, MIB_MANAGER_TIMESTAMP,
	MIB_MANAGER_STATUS, MIB_MANAGER_RUNNING_STANDBY
};

/* flowData.N */
enum mib_data {
	MIB_DATA_TABLE          = 1,   /* flowDataTable, INDEX {set, timeMark, index};
	                                  column c holds attribute c (1..41, with
	                                  2/3 swapped: column 2 is TimeMark) */
	MIB_COLUMN_ACTIVITY     = 2,   /* deprecated, not implemented */
	MIB_PACKAGE_TABLE       = 3    /* flowDataPackageTable, INDEX {selector,
	                                  set, time, index}; column 5 = data */
};
#define MIB_PACKAGE_DATA_COL    5

/* flowRules.1 = flowRuleTable, INDEX {set, rule}. */
#define MIB_RULE_TABLE          1
enum mib_rule_col {
	MIB_RULE_SET = 1, MIB_RULE_INDEX, MIB_RULE_SELECTOR, MIB_RULE_MASK,
	MIB_RULE_MATCHED_VALUE, MIB_RULE_ACTION, MIB_RULE_PARAMETER
};

/* SNMPv2-TC RowStatus and TruthValue. */
enum mib_row_status {
	MIB_RS_ACTIVE = 1, MIB_RS_NOT_IN_SERVICE, MIB_RS_NOT_READY,
	MIB_RS_CREATE_AND_GO, MIB_RS_CREATE_AND_WAIT, MIB_RS_DESTROY
};
enum mib_truth { MIB_TRUE = 1, MIB_FALSE = 2 };

/*
 * NTM-MIB.  ntm has no IANA enterprise number yet: its module sits under
 * net-snmp's experimental arc netSnmpPlaypen (1.3.6.1.4.1.8072.9999.9999),
 * sub-arc 40, until one is assigned (doc/mib.md).
 */
#define MIB_NTM                 1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 40
#define MIB_NTM_LEN             10

/* ntm.1 = ntmMeter scalars (instance .0). */
#define MIB_NTM_METER           1
enum mib_ntm_meter {
	MIB_NTM_VERSION    = 1,   /* DisplayString: "ntm 0.x" */
	MIB_NTM_NAME       = 2,   /* DisplayString: --meter NAME */
	MIB_NTM_UPTIME     = 3,   /* TimeTicks: meter uptime (the clock every
	                             TimeStamp of the Meter MIB uses) */
	MIB_NTM_TIME_NS    = 4,   /* Counter64: meter clock, ns since the epoch
	                             (trace time when replaying) */
	MIB_NTM_START_NS   = 5,   /* Counter64: clock at uptime 0 */
	MIB_NTM_SPEED      = 6,   /* Integer32: replay speed; 1 when live */
	MIB_NTM_PACKETS    = 7,   /* Counter64: packets seen */
	MIB_NTM_INTERVAL   = 8    /* Integer32: the meter's own --interval, s */
};

/*
 * ntm.2.1 = ntmPackageTable: flowDataPackageTable with a selector of
 * two octets (big-endian) per attribute, so ntm's attributes above 255
 * (DNS counters 520..527, ns times 530/531) can be read in packages too.
 * Same INDEX order {selector, set, time, index}, data in column 5.
 */
#define MIB_NTM_DATA            2
#define MIB_NTM_PACKAGE_TABLE   1

#endif
