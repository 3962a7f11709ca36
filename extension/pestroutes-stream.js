export function startPestRoutes() {}
