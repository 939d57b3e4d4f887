"""/incident (突发): report an urgent incident; the family, the head teacher and 德育处 are told at
once, and the 已知悉 / 已电话联系 / 查看记录 buttons that follow it (see `incident.mmd`).

The flow is `handlers.incident.flow.INCIDENT_FLOW`, the buttons `handlers.incident.actions`;
this package imports neither, so the scheduler's job can use the texts without the flow.
"""
